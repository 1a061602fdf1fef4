/** An OpenStack API answered with an error status, or did not answer. Carries what a failure record needs. */
export class OpenStackApiError extends Error {
  constructor(
    message: string,
    readonly service: string,
    readonly httpStatus: number | undefined,
    readonly body: string,
  ) {
    super(message);
  }
}
