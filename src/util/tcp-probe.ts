import { connect } from 'node:net';

export interface TcpProbe {
  ok: boolean;
  /** What was seen, for messages and failure evidence. */
  observed: string;
}

/** One TCP connection attempt: does host:port accept connections within the timeout? */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<TcpProbe> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (outcome: TcpProbe) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.once('connect', () => done({ ok: true, observed: `${host}:${port} accepts connections` }));
    socket.once('timeout', () =>
      done({ ok: false, observed: `${host}:${port} did not answer within ${timeoutMs} ms` }),
    );
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done({ ok: false, observed: `${host}:${port}: ${error.code ?? error.message}` }),
    );
  });
}

export async function portOpen(host: string, port: number): Promise<boolean> {
  return (await tcpProbe(host, port, 1000)).ok;
}
