import { join } from 'node:path';

/**
 * Where the tool's own files live under its package root (the repository, or where npm installed it), named
 * once: the code that reads them never spells a path of its own.
 */
export interface PackageLayout {
  /** Built-in barclamps, one directory each. */
  barclamps: string;
  /** Partials every barclamp may include by path (`include('openstack/…')`), searched after its own templates. */
  sharedTemplates: string;
  /** The failure taxonomy: genes with their signals, mitigation and re-creation. */
  taxonomy: string;
  /** The dashboard's page, script and style, served as they are. */
  dashboardAssets: string;
  /** The lab's BMC hooks and machine firmware (shell scripts run on the lab host). */
  labScripts: string;
  /** The provisioner's boot files: iPXE scripts, the preseed, the discovery agent and its ramdisk's init. */
  bootFiles: string;
}

export function packageLayout(root: string): PackageLayout {
  return {
    barclamps: join(root, 'barclamps'),
    sharedTemplates: join(root, 'barclamps', '_shared'),
    taxonomy: join(root, 'share', 'taxonomy.yaml'),
    dashboardAssets: join(root, 'share', 'dashboard'),
    labScripts: join(root, 'share', 'lab'),
    bootFiles: join(root, 'share', 'provisioner'),
  };
}
