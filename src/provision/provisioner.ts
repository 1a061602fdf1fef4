import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { createBootServer, machineIdFor, type BootServerDeps } from './boot-server.js';
import { dnsmasqPaths, IPXE_FILES, IPXE_SOURCE_DIR, parseLeases, renderDhcpHosts, renderDnsmasqConfig } from './dnsmasq-config.js';

export interface ProvisionerDeps extends BootServerDeps {
  sleep: (ms: number) => Promise<void>;
  /** Where the iPXE binaries come from (Debian package `ipxe`). */
  ipxeDir?: string;
}

export interface RunningProvisioner {
  /** Resolves when dnsmasq and the HTTP server are down. */
  stop: () => Promise<void>;
}

export class ProvisionerError extends Error {
  constructor(message: string, readonly hint: string) {
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
  mkdirSync(paths.tftpRoot, { recursive: true });
  for (const file of Object.values(IPXE_FILES)) {
    const source = join(deps.ipxeDir ?? IPXE_SOURCE_DIR, file);
    if (!existsSync(source)) throw new ProvisionerError(`${source} is missing (iPXE for PXE ROMs)`, 'install it with: apt-get install ipxe');
    copyFileSync(source, join(paths.tftpRoot, file));
  }
  writeFileAtomic(paths.hosts, renderDhcpHosts(config));
  writeFileAtomic(paths.conf, renderDnsmasqConfig(config));

  const server = createBootServer(deps);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new ProvisionerError(`the boot server cannot listen on ${config.address}:${config.httpPort}: ${error.code ?? error.message}`, error.code === 'EADDRINUSE' ? 'another provisioner already runs (see `bootstrap status`) or the port is taken' : 'is the admin address configured on this machine?')));
    server.listen(config.httpPort, config.address, () => resolve());
  });

  let stopping = false;
  let child: ChildProcess | undefined;
  const startDnsmasq = () => {
    child = spawn('dnsmasq', ['--keep-in-foreground', `--conf-file=${paths.conf}`, `--pid-file=${paths.pid}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => deps.log(`dnsmasq: ${chunk.toString().trim()}`));
    child.once('exit', (code, signal) => {
      if (stopping) return;
      deps.log(`dnsmasq exited (${signal ?? code}); restarting in 1 s`);
      void deps.sleep(1000).then(() => {
        if (!stopping) startDnsmasq();
      });
    });
  };
  startDnsmasq();

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
        deps.store.sight(machineIdFor(config, deps.store, lease.mac), 'dhcp', `lease ${lease.address} for ${lease.mac}`);
      }
      await deps.sleep(250);
    }
  };
  const leaseWatcher = watchLeases();
  deps.log(`serving ${config.deployment}: DHCP/TFTP on ${config.interface ?? config.address}, HTTP on ${config.address}:${config.httpPort}`);

  return {
    stop: async () => {
      stopping = true;
      const exited = child && child.exitCode === null ? new Promise((r) => child!.once('exit', r)) : Promise.resolve();
      child?.kill('SIGTERM');
      await Promise.all([exited, new Promise((r) => server.close(r)), leaseWatcher]);
    },
  };
}
