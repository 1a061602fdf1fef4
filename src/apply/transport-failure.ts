import type { Observation } from '../failures/classify.js';
import type { TransportError } from '../transport/transport.js';

export function observationOfTransportError(error: TransportError): Observation {
  const message = error.reason === 'host-key-mismatch' ? `host key mismatch: ${error.message}` : error.message;
  return { source: 'ssh-connect', message, ...(error.errorCode ? { errorCode: error.errorCode } : {}), ...(error.reason === 'timeout' ? { timedOut: true } : {}) };
}
