import { packageLayout } from '../../core/package-layout.js';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { UserError } from '../../core/user-error.js';
import { dashboardSource } from '../../dashboard/dashboard-source.js';
import { startDashboard, type DashboardServer } from '../../dashboard/server.js';
import type { Deployment } from '../../engine/deployment.js';
import { readSecretSource, SecretSourceError } from '../../secrets/secret-source.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { deploymentFor } from './inventory-arg.js';

const DEFAULT_LISTEN = '127.0.0.1:8780';

/** `bootstrap serve [INVENTORY] [--listen HOST:PORT] [--token-file F]`: the live dashboard until Ctrl-C. */
export async function serveCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const deployment = deploymentFor(args, io, args.positionals[0]);
  const dashboard = await startDashboardFor(io, deployment, args);
  try {
    await new Promise<void>((resolve) =>
      io.stop.aborted ? resolve() : io.stop.addEventListener('abort', () => resolve(), { once: true }),
    );
  } finally {
    await dashboard.close();
  }
  return EXIT.ok;
}

/** Starts the dashboard of a deployment as --listen and the token (BOOTSTRAP_UI_TOKEN, --token-file) say (serve, apply --ui) and prints where it is. */
export async function startDashboardFor(
  io: CommandIO,
  deployment: Deployment,
  args: ParsedArgs,
): Promise<DashboardServer> {
  const listen = typeof args.flags.get('listen') === 'string' ? (args.flags.get('listen') as string) : DEFAULT_LISTEN;
  const { host, port } = parseListen(listen);
  const token = dashboardToken(io, args);
  if (!isLoopback(host) && (token === undefined || token.length < 16)) {
    throw new UserError('invalid-input', `the dashboard on ${host} needs a token`, [
      {
        severity: 'error',
        code: 'serve.token',
        summary: `--listen ${listen} is reachable from other machines: the dashboard then requires a token of 16 or more characters`,
        suggestion:
          'set BOOTSTRAP_UI_TOKEN (or --token-file FILE, mode 0600), or listen on 127.0.0.1 and reach it through ssh -L',
      },
    ]);
  }
  const source = dashboardSource(io.env, deployment);
  let server: DashboardServer;
  try {
    server = await startDashboard({
      host,
      port,
      ...(token !== undefined ? { token } : {}),
      view: source.view,
      secrets: source.secrets,
      assetsDir: packageLayout(io.env.packageRoot).dashboardAssets,
    });
  } catch (error) {
    source.stop();
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError('precondition', `cannot listen on ${listen}`, [
      {
        severity: 'error',
        code: 'serve.listen',
        summary: `cannot listen on ${listen}: ${code ?? (error as Error).message}`,
        suggestion:
          code === 'EADDRINUSE' ? 'pick another port: --listen HOST:PORT' : 'check the address belongs to this machine',
      },
    ]);
  }
  io.stderr.write(`dashboard: ${server.url}\n`);
  return {
    url: server.url,
    close: async () => {
      source.stop();
      await server.close();
    },
  };
}

/** The token from the environment or a private file: on a command line every local user could read it (ps). */
function dashboardToken(io: CommandIO, args: ParsedArgs): string | undefined {
  if (args.flags.has('token')) {
    throw new UserError('invalid-input', 'a token on the command line is visible to every user of this machine', [
      {
        severity: 'error',
        code: 'serve.token-argument',
        summary: '--token puts the dashboard token in the process list',
        suggestion: 'set BOOTSTRAP_UI_TOKEN, or write it to a file only you can read and pass --token-file FILE',
      },
    ]);
  }
  const file = args.flags.get('token-file');
  if (typeof file !== 'string') return io.env.env.BOOTSTRAP_UI_TOKEN;
  try {
    return readSecretSource({ file: resolve(io.env.cwd, file) }, io.env.env);
  } catch (error) {
    if (!(error instanceof SecretSourceError)) throw error;
    throw new UserError('precondition', `cannot use the token file ${file}`, [
      {
        severity: 'error',
        code: 'serve.token-file',
        summary: error.message,
        suggestion: 'a file only you can read (chmod 600) holding the token on one line',
      },
    ]);
  }
}

function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!host || !Number.isInteger(port) || port > 65535 || (host !== 'localhost' && isIP(host) === 0))
    throw usage(`--listen wants HOST:PORT with an IP address (127.0.0.1:8780, [::1]:8780), not '${listen}'`);
  return { host, port };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
