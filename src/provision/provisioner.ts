import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { createBootServer, machineIdFor, type BootServerDeps } from './boot-server.js';
import { RUNTIME_ROOT } from './provisioner-config.js';
import {
  dnsmasqPaths,
  IPXE_FILES,
  IPXE_SOURCE_DIR,
  parseLeases,
  renderDhcpHosts,
  renderDnsmasqConfig,
} from './dnsmasq-config.js';

export interface ProvisionerDeps extends BootServerDeps {
  sleep: (ms: number) => Promise<void>;
  nowMs: () => number;
  /** Where the iPXE binaries come from (Debian package `ipxe`). */
  ipxeDir?: string;
  /** Builds missing boot images (discovery kernel + ramdisk); run in the background once serving. */
  buildImages?: () => Promise<void>;
}

export interface RunningProvisioner {
  /** Resolves when dnsmasq and the HTTP server are down. */
  stop: () => Promise<void>;
}

export class ProvisionerError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/**
 * The admin node's provisioning services: dnsmasq (DHCP + TFTP) as a supervised child process with its
 * own config and pid file, and the HTTP boot server. Every lease dnsmasq hands out is recorded as a
 * sighting, so "the node never got an address" is visible in `bootstrap status`.
 */
export async function startProvisioner(deps: ProvisionerDeps): Promise<RunningProvisioner> {
  const { config } = deps;
  const paths = dnsmasqPaths(config);
  mkdirSync(paths.tftpRoot, { recursive: true, mode: 0o755 });
  for (let d = paths.tftpRoot; d.startsWith(RUNTIME_ROOT); d = dirname(d)) chmodSync(d, 0o755);
  for (const file of Object.values(IPXE_FILES)) {
    const source = join(deps.ipxeDir ?? IPXE_SOURCE_DIR, file);
    if (!existsSync(source))
      throw new ProvisionerError(`${source} is missing (iPXE for PXE ROMs)`, 'install it with: apt-get install ipxe');
    copyFileSync(source, join(paths.tftpRoot, file));
  }
  writeFileAtomic(paths.hosts, renderDhcpHosts(config));
  writeFileAtomic(paths.conf, renderDnsmasqConfig(config));

  // the installers' own addresses: a preseed and an install callback are taken from a machine's lease
  const leaseOf = (mac: string) => {
    try {
      return parseLeases(readFileSync(paths.leases, 'utf8')).find((l) => l.mac === mac.toLowerCase())?.address;
    } catch {
      return undefined;
    }
  };
  const server = createBootServer({ ...deps, leaseOf });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new ProvisionerError(
          `the boot server cannot listen on ${config.address}:${config.httpPort}: ${error.code ?? error.message}`,
          error.code === 'EADDRINUSE'
            ? 'another provisioner already runs (see `bootstrap status`) or the port is taken'
            : 'is the admin address configured on this machine?',
        ),
      ),
    );
    server.listen(config.httpPort, config.address, () => resolve());
  });

  let stopping = false;
  let child: ChildProcess | undefined;
  let restarts = 0;
  const startDnsmasq = () => {
    child = spawn('dnsmasq', ['--keep-in-foreground', `--conf-file=${paths.conf}`, `--pid-file=${paths.pid}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => deps.log(`dnsmasq: ${chunk.toString().trim()}`));
    const startedAt = deps.nowMs();
    child.once('exit', (code, signal) => {
      if (stopping) return;
      // dnsmasq says why in its own log; a crash loop backs off up to 30 s
      restarts = deps.nowMs() - startedAt > 60_000 ? 0 : restarts + 1;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(restarts - 1, 5));
      deps.log(`dnsmasq exited (${signal ?? code}): ${lastLines(paths.log, 2)}; restarting in ${delay / 1000} s`);
      void deps.sleep(delay).then(() => {
        if (!stopping) startDnsmasq();
      });
    });
  };
  startDnsmasq();

  const imagesBuilt = (deps.buildImages?.() ?? Promise.resolve()).catch((error: unknown) => {
    deps.log(
      `boot images: ${error instanceof Error ? error.message : String(error)} — machines that PXE-boot into discovery will not get a kernel`,
    );
  });

  const seen = new Set<string>();
  const watchLeases = async () => {
    while (!stopping) {
      let text = '';
      try {
        text = readFileSync(paths.leases, 'utf8');
      } catch {
        // no lease yet
      }
      for (const lease of parseLeases(text)) {
        const key = `${lease.mac} ${lease.address} ${lease.expires}`;
        if (seen.has(key)) continue;
        seen.add(key);
        deps.store.sight(
          machineIdFor(config, deps.store.byMac(lease.mac), lease.mac),
          'dhcp',
          `lease ${lease.address} for ${lease.mac}`,
        );
      }
      await deps.sleep(250);
    }
  };
  const leaseWatcher = watchLeases();
  deps.log(
    `serving ${config.deployment}: DHCP/TFTP on ${config.interface ?? config.address}, HTTP on ${config.address}:${config.httpPort}`,
  );

  return {
    stop: async () => {
      stopping = true;
      const exited = child && child.exitCode === null ? new Promise((r) => child!.once('exit', r)) : Promise.resolve();
      child?.kill('SIGTERM');
      await Promise.all([exited, new Promise((r) => server.close(r)), leaseWatcher, imagesBuilt]);
      rmSync(dirname(paths.tftpRoot), { recursive: true, force: true });
    },
  };
}

function lastLines(file: string, count: number): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-count).join(' | ');
  } catch {
    return 'no log';
  }
}
