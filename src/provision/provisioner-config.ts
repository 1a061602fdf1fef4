import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import { formatIPv4, netmaskOf, parseCidr, parseRange } from '../util/ipv4.js';

export const DEFAULT_HTTP_PORT = 8067;
export const RUNTIME_ROOT = '/run/bootstrap';
/** Boot images (discovery kernel + ramdisk): deployment-independent, built once per admin node. */
export const DEFAULT_IMAGES_DIR = '/var/cache/bootstrap/images';

/** Everything the admin node's provisioning services need, derived from the inventory alone. */
export interface ProvisionerConfig {
  deployment: string;
  /** The admin node's address on the admin network: DHCP server, TFTP and HTTP boot server. */
  address: string;
  /** Host interface dnsmasq binds to (the lab bridge, or the interface that carries `address`). */
  interface?: string;
  httpPort: number;
  netmask: string;
  prefix: number;
  /** Dynamic range for machines nobody has told us about (they get the discovery image). */
  dhcpRange?: { start: string; end: string };
  reservations: { mac: string; address: string; name: string }[];
  /** dnsmasq config, leases, TFTP root and logs: `<state-dir>/provisioner/`. */
  dir: string;
  /**
   * TFTP root: dnsmasq serves files as an unprivileged user, which cannot enter a 0700 state directory;
   * iPXE binaries are public anyway, so they live in a world-readable runtime directory.
   */
  tftpRoot: string;
  /** Served as /images/… (discovery kernel and ramdisk). */
  imagesDir: string;
  /**
   * Answer IPv6 router solicitations on the admin interface (local-only prefix, not a default router):
   * iPXE waits ~15 s for a router advertisement otherwise. For labs; real admin networks have routers.
   */
  routerAdvertisement: boolean;
  /** Public key installed for root on every node (the bootstrapper's SSH key). */
  authorizedKeyFile?: string;
}

export function provisionerConfigOf(inventory: Inventory, stateDir: string): ProvisionerConfig | undefined {
  const admin = inventory.networks.admin;
  const cidr = admin && parseCidr(admin.cidr);
  if (!admin || !cidr) return undefined;
  const lab = inventory.lab;
  const address = typeof lab?.admin_address === 'string' ? lab.admin_address : admin.gateway;
  if (address === undefined) return undefined;
  const range = admin.dhcp !== undefined ? parseRange(admin.dhcp) : undefined;
  const port = typeof lab?.provisioner_port === 'number' ? lab.provisioner_port : DEFAULT_HTTP_PORT;
  return {
    deployment: inventory.deployment,
    address,
    httpPort: port,
    netmask: netmaskOf(cidr.prefix),
    prefix: cidr.prefix,
    ...(range ? { dhcpRange: { start: formatIPv4(range.start), end: formatIPv4(range.end) } } : {}),
    reservations: inventory.nodes.flatMap((n) => {
      const ip = n.addresses.admin ?? n.ssh.address;
      return n.macs.slice(0, 1).map((mac) => ({ mac: mac.toLowerCase(), address: ip, name: n.name }));
    }),
    dir: join(stateDir, 'provisioner'),
    tftpRoot: join(
      RUNTIME_ROOT,
      `${inventory.deployment}-${createHash('sha256').update(stateDir).digest('hex').slice(0, 8)}`,
      'tftp',
    ),
    imagesDir: imagesDirOf(inventory),
    routerAdvertisement: false,
    ...(inventory.ssh.key !== undefined ? { authorizedKeyFile: `${inventory.ssh.key}.pub` } : {}),
  };
}

export function bootServerUrl(config: ProvisionerConfig): string {
  return `http://${config.address}:${config.httpPort}`;
}

export function imagesDirOf(inventory: Inventory): string {
  const configured = inventory.lab?.images_dir;
  return typeof configured === 'string' ? configured : DEFAULT_IMAGES_DIR;
}
