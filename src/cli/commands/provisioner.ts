import { packageLayout } from '../../core/package-layout.js';
import { existsSync, readFileSync } from 'node:fs';
import { openDeployment, type Deployment } from '../../engine/deployment.js';
import { inEmbeddedLab } from './embedded-lab.js';
import { BootScripts } from '../../provision/boot-scripts.js';
import { machineStoreOf } from '../../engine/provision-phase.js';
import { provisionerConfigOf, type ProvisionerConfig } from '../../provision/provisioner-config.js';
import { ProvisionerError, startProvisioner } from '../../provision/provisioner.js';
import { ensureDiscoveryImage } from '../../provision/discovery-image.js';
import { ensureOsImage } from '../../provision/os-image.js';
import { hostMirror } from '../../provision/host-mirror.js';
import { runCommand } from '../../util/exec.js';
import { usage, type ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';

/** `bootstrap provisioner serve INVENTORY`: the admin node's DHCP/TFTP/HTTP boot services, until stopped. */
export async function provisionerCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const [verb, file] = args.positionals;
  if (verb !== 'serve' || !file) throw usage('usage: bootstrap provisioner serve INVENTORY');
  const deployment = openDeployment(io.env, file, args.flags.get('state-dir') as string | undefined);
  const config = provisionerConfigFor(deployment);
  const store = machineStoreOf(deployment, io.env);
  const log = (line: string) => io.stderr.write(`${io.env.now().toISOString()} provisioner: ${line}\n`);
  const templateDir = packageLayout(io.env.packageRoot).bootFiles;
  try {
    const running = await startProvisioner({
      config,
      store,
      scripts: new BootScripts(templateDir),
      authorizedKey: () =>
        config.authorizedKeyFile && existsSync(config.authorizedKeyFile)
          ? readFileSync(config.authorizedKeyFile, 'utf8')
          : undefined,
      aptProxy: aptProxyOf(deployment),
      log,
      sleep: io.env.sleep,
      nowMs: io.env.nowMs,
      buildImages: async () => {
        await ensureDiscoveryImage(config.imagesDir, { run: runCommand, log, nowMs: io.env.nowMs, templateDir });
        // the lab builds the OS image itself, only when it has a machine to install onto a disk
        if (!deployment.inventory.lab)
          await ensureOsImage(config.imagesDir, { run: runCommand, log, nowMs: io.env.nowMs, mirror: hostMirror() });
      },
    });
    await new Promise<void>((resolve) => io.stop.addEventListener('abort', () => resolve(), { once: true }));
    log('stopping');
    await running.stop();
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ProvisionerError)) throw error;
    io.stderr.write(`provisioner error: ${error.message}\n  hint: ${error.hint}\n`);
    return EXIT.failed;
  }
}

/** The inventory's provisioner settings (in a lab: on the lab's admin bridge). */
export function provisionerConfigFor(deployment: Deployment): ProvisionerConfig {
  const config = provisionerConfigOf(deployment.inventory, deployment.stateDir);
  if (!config)
    throw usage(
      `${deployment.inventory.file}: provisioning needs an 'admin' network with a gateway (the admin node's address) or lab.admin_address`,
    );
  return inEmbeddedLab(deployment, config);
}

function aptProxyOf(deployment: Deployment): string {
  const proxy = deployment.inventory.attributes.base?.apt_proxy;
  return typeof proxy === 'string' ? proxy : '';
}
