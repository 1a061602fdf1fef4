import type { Observation } from './classify.js';
import type { IpmiError } from '../ipmi/ipmi-error.js';
import type { TransportError } from '../transport/transport.js';

/** What an SSH connection that failed is recorded as. */
export function observationOfTransportError(error: TransportError): Observation {
  const message = error.reason === 'host-key-mismatch' ? `host key mismatch: ${error.message}` : error.message;
  return {
    source: 'ssh-connect',
    message,
    ...(error.errorCode ? { errorCode: error.errorCode } : {}),
    ...(error.reason === 'timeout' ? { timedOut: true } : {}),
  };
}

/** What a BMC that failed an operation is recorded as (message with its remediation, ipmitool's stderr). */
export function bmcObservation(error: IpmiError): Observation {
  return { source: 'bmc', kind: error.kind, message: `${error.message} — ${error.remediation}`, stderr: error.stderr };
}
