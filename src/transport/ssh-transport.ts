import { readFileSync } from 'node:fs';
import { Client, type ClientChannel } from 'ssh2';
import { fingerprintOf, type KnownHosts } from './known-hosts.js';
import { shellQuote } from './shell-quote.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './transport.js';

export interface SshTarget {
  node: string;
  address: string;
  port: number;
  user: string;
  keyFile?: string;
  connectTimeoutMs: number;
}

const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

/**
 * One reused SSH connection per node (ssh2). Scripts travel on stdin to `sh -s`, so nothing the
 * tool sends — values, file contents, secrets — ever appears in a remote process's arguments.
 */
export class SshTransport implements Transport {
  readonly node: string;
  private connection?: Promise<Client>;

  constructor(
    private readonly target: SshTarget,
    private readonly knownHosts: KnownHosts,
  ) {
    this.node = target.node;
  }

  async run(script: string, options: ExecOptions): Promise<ExecResult> {
    const client = await this.connect();
    // The deadline is also enforced on the node: timeout(1) kills its whole process group (a hung crmadmin
    // outlived its timed-out step by 20 minutes at full CPU). The shell first tells us its pid — timeout
    // keeps it and leads the group — so an aborted step's processes can be ended on the node too.
    const guarded = `echo ${PGID_MARK}$$ >&2; exec timeout -k 5 ${Math.ceil(options.timeoutMs / 1000) + 2} sh -s`;
    const command = this.asRoot(guarded);
    return new Promise<ExecResult>((resolve, reject) => {
      // A connection that dies mid-command (node lost, sshd killed) must fail the command, not hang it.
      const onLost = () =>
        reject(
          new TransportError(
            `connection to ${this.target.address}:${this.target.port} lost while running a command`,
            'unreachable',
            'ECONNRESET',
          ),
        );
      client.once('close', onLost);
      const settle = (result: ExecResult) => {
        client.off('close', onLost);
        resolve(result);
      };
      client.exec(command, (error, channel) => {
        if (error) {
          client.off('close', onLost);
          this.connection = undefined;
          return reject(new TransportError(`cannot start remote command: ${error.message}`, 'unreachable'));
        }
        collect(channel, script, options, settle, (group) => this.endGroup(client, group));
      });
    });
  }

  /** The command as root: directly, or through sudo (non-interactive) for another login user. */
  private asRoot(command: string): string {
    return this.target.user === 'root' ? command : `sudo -n -- sh -c ${shellQuote(command)}`;
  }

  /** Ends an aborted step's process group on the node: TERM (timeout passes it on), KILL after 5 s. */
  private endGroup(client: Client, group: number): void {
    const kill = this.asRoot(`kill -TERM -- -${group} 2>/dev/null; sleep 5; kill -KILL -- -${group} 2>/dev/null; true`);
    client.exec(kill, (error, channel) => {
      if (!error) channel.on('data', () => undefined).stderr.on('data', () => undefined);
    });
  }

  close(): void {
    const pending = this.connection;
    this.connection = undefined;
    pending?.then(
      (c) => c.end(),
      () => undefined,
    );
  }

  private connect(): Promise<Client> {
    if (!this.connection) {
      this.connection = this.open();
      this.connection.catch(() => {
        this.connection = undefined;
      });
    }
    return this.connection;
  }

  private open(): Promise<Client> {
    const { address, port, user, keyFile, connectTimeoutMs } = this.target;
    const endpoint = `${address}:${port}`;
    let privateKey: Buffer | undefined;
    if (keyFile !== undefined) {
      try {
        privateKey = readFileSync(keyFile);
      } catch (error) {
        return Promise.reject(
          new TransportError(
            `cannot read SSH key ${keyFile}: ${(error as NodeJS.ErrnoException).code}`,
            'key-unreadable',
          ),
        );
      }
    }
    return new Promise((resolve, reject) => {
      const client = new Client();
      let presented: string | undefined;
      let mismatch = false;
      client.on('ready', () => {
        if (presented !== undefined && this.knownHosts.verify(endpoint, presented) === 'new')
          this.knownHosts.pin(endpoint, presented);
        resolve(client);
      });
      client.on('error', (error: Error & { level?: string; code?: string }) => {
        if (mismatch) {
          return reject(
            new TransportError(
              `host key mismatch for ${endpoint}: pinned ${this.knownHosts.pinned(endpoint)}, presented ${presented}`,
              'host-key-mismatch',
            ),
          );
        }
        const auth = error.level === 'client-authentication';
        const timeout = /Timed out/i.test(error.message);
        reject(
          new TransportError(
            `ssh ${user}@${endpoint}: ${error.message}`,
            auth ? 'auth' : timeout ? 'timeout' : 'unreachable',
            error.code,
          ),
        );
      });
      client.on('close', () => {
        this.connection = undefined;
        // a peer that hangs up before the handshake completes (sshd still starting, MaxStartups) emits no
        // 'error': without this the connection promise — and with it the whole gather — would wait forever
        reject(
          new TransportError(
            `ssh ${user}@${endpoint}: connection closed before the SSH handshake completed`,
            'unreachable',
            'ECONNRESET',
          ),
        );
      });
      client.connect({
        host: address,
        port,
        username: user,
        ...(privateKey ? { privateKey } : {}),
        readyTimeout: connectTimeoutMs,
        keepaliveInterval: 5000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          presented = fingerprintOf(key);
          mismatch = this.knownHosts.verify(endpoint, presented) === 'mismatch';
          return !mismatch;
        },
      });
    });
  }
}

/** Marks the line a remote command's shell prints first on stderr: its pid, the step's process group. */
const PGID_MARK = 'bootstrap-pgid:';

function collect(
  channel: ClientChannel,
  script: string,
  options: ExecOptions,
  resolve: (r: ExecResult) => void,
  endGroup: (group: number) => void,
): void {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let size = 0;
  let timedOut = false;
  let settled = false;
  let group: number | undefined;
  /** stderr until the marker line is complete; undefined once it was read. */
  let head: string | undefined = '';
  const keep = (into: Buffer[]) => (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_OUTPUT_BYTES) into.push(chunk);
  };
  const keepStderr = keep(stderr);
  channel.on('data', keep(stdout));
  channel.stderr.on('data', (chunk: Buffer) => {
    if (head === undefined) return keepStderr(chunk);
    // the first line is the group marker; everything after it is the script's own stderr
    head += chunk.toString('utf8');
    const newline = head.indexOf('\n');
    if (newline < 0 && head.length < 64) return;
    const first = head.slice(0, newline < 0 ? head.length : newline);
    const rest = newline < 0 ? '' : head.slice(newline + 1);
    const marked = first.startsWith(PGID_MARK) ? Number(first.slice(PGID_MARK.length)) : NaN;
    group = Number.isInteger(marked) && marked > 1 ? marked : undefined;
    if (group === undefined) keepStderr(Buffer.from(head));
    else if (rest !== '') keepStderr(Buffer.from(rest));
    head = undefined;
    if (stopping && group !== undefined) endGroup(group);
  });
  const finish = (code: number | null) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(grace);
    options.signal?.removeEventListener('abort', onAbort);
    if (head) stderr.unshift(Buffer.from(head));
    resolve({
      code: timedOut ? null : code,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
      timedOut,
    });
  };
  let grace: NodeJS.Timeout | undefined;
  let stopping = false;
  const stop = () => {
    stopping = true;
    // the group is known once the marker arrived; if it has not yet, it is ended when it does
    if (group !== undefined) endGroup(group);
    channel.signal('KILL');
    channel.close();
    // If the peer never confirms the close (dead connection), give up waiting after a grace period.
    grace = setTimeout(() => finish(null), 2000);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  const onAbort = () => stop();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  channel.on('close', (code: number | null) => finish(code ?? null));
  channel.end(script);
}
