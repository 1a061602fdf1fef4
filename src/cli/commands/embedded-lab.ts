import type { Deployment } from '../../engine/deployment.js';
import { labStatus } from '../../lab/lab.js';
import { labNames, labSpecOf } from '../../lab/lab-spec.js';
import type { ProvisionerConfig } from '../../provision/provisioner-config.js';
import type { CommandIO } from '../io.js';
import { bringUp, requireLabHost } from './lab.js';

/**
 * The embedded default, the one place product commands meet the lab: an inventory with a `lab:` section is
 * deployed onto the local lab. Everything else of the product works the same on a real rack and never
 * imports the lab (tests/unit/import-boundaries.test.ts holds it to that).
 */

/** apply: brings the inventory's lab up first when it has one that is not up. */
export async function ensureEmbeddedLab(io: CommandIO, deployment: Deployment): Promise<void> {
  const lab = labSpecOf(deployment.inventory);
  if (!lab || (await labStatus(lab, io.env)).up) return;
  await requireLabHost(io.env, lab);
  await bringUp(io, deployment, lab);
}

/**
 * provisioner serve: in a lab, dnsmasq binds to the lab's admin bridge and answers iPXE's router solicitation
 * there (the lab gives the bridge a unique-local address for it).
 */
export function inEmbeddedLab(deployment: Deployment, config: ProvisionerConfig): ProvisionerConfig {
  const lab = labSpecOf(deployment.inventory);
  return lab ? { ...config, interface: labNames(lab, 0, '').bridge, routerAdvertisement: true } : config;
}
