import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandResult } from '../util/exec.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { gzipCpio, type CpioEntry } from '../util/cpio.js';
import { moduleDepends, moduleLoadOrder } from './kernel-modules.js';

/** Bumped whenever the ramdisk's content changes: an image built by another version is rebuilt. */
export const DISCOVERY_IMAGE_VERSION = 2;
/** Debian's kernel for virtual and simple machines: small, and it boots under QEMU/TCG. */
export const KERNEL_METAPACKAGE = 'linux-image-cloud-amd64';
/** Statically linked busybox (Debian busybox-static): the discovery ramdisk's whole userland. */
export const BUSYBOX_STATIC = '/bin/busybox';
/**
 * NIC and disk drivers the cloud kernel builds as modules (virtio for QEMU machines), and ext4 with the
 * checksum it asks the crypto API for (a soft dependency, not in its `depends=`): the install agent mounts
 * the root file system it wrote.
 */
const RAMDISK_MODULES = [
  'virtio_pci',
  'virtio_net',
  'virtio_blk',
  'virtio_scsi',
  'e1000',
  'e1000e',
  'ahci',
  'sd_mod',
  'crc32c_generic',
  'ext4',
];

export interface DiscoveryImage {
  dir: string;
  kernel: string;
  initrd: string;
  kernelPackage: string;
}

export interface ImageBuildDeps {
  run: (
    file: string,
    args: readonly string[],
    options?: { cwd?: string; timeoutMs?: number },
  ) => Promise<CommandResult>;
  log: (line: string) => void;
  nowMs: () => number;
  /** share/provisioner/: the ramdisk's /init and DHCP script. */
  templateDir: string;
  busybox?: string;
}

export class ImageBuildError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/** `<imagesDir>/discovery/`: what the boot server hands out as /images/discovery/vmlinuz and initrd.img. */
export function discoveryImageDir(imagesDir: string): string {
  return join(imagesDir, 'discovery');
}

/**
 * The discovery image: Debian's cloud kernel and a busybox initramfs whose /init runs the discovery agent
 * (or, booted to install, the install agent).
 * Built once from the admin node's own package mirror (no internet), then reused; built into a temporary
 * directory and renamed into place, so a crash never leaves half an image to serve.
 */
export async function ensureDiscoveryImage(imagesDir: string, deps: ImageBuildDeps): Promise<DiscoveryImage> {
  const dir = discoveryImageDir(imagesDir);
  const image = (kernelPackage: string): DiscoveryImage => ({
    dir,
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    kernelPackage,
  });
  const stamp = readStamp(dir);
  if (
    stamp?.version === DISCOVERY_IMAGE_VERSION &&
    existsSync(join(dir, 'vmlinuz')) &&
    existsSync(join(dir, 'initrd.img'))
  )
    return image(stamp.kernelPackage);

  const started = deps.nowMs();
  mkdirSync(imagesDir, { recursive: true });
  const kernelPackage = await kernelPackageOf(deps);
  const work = mkdtempSync(join(imagesDir, '.discovery-'));
  try {
    const fetched = await deps.run('apt-get', ['download', kernelPackage], { cwd: work, timeoutMs: 300_000 });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (fetched.code !== 0 || !deb)
      throw new ImageBuildError(
        `cannot download ${kernelPackage}: ${fetched.stderr.trim().split('\n').at(-1) ?? ''}`,
        'the admin node needs a working Debian mirror in its apt sources (`apt-get update`)',
      );
    const unpacked = await deps.run('dpkg-deb', ['-x', join(work, deb), join(work, 'root')]);
    if (unpacked.code !== 0)
      throw new ImageBuildError(
        `cannot unpack ${deb}: ${unpacked.stderr.trim()}`,
        'is the download complete? remove it and retry',
      );
    const release = kernelPackage.replace(/^linux-image-/, '');
    const out = join(work, 'out');
    writeFileAtomic(join(out, 'vmlinuz'), readFileSync(join(work, 'root', 'boot', `vmlinuz-${release}`)));
    writeFileAtomic(join(out, 'initrd.img'), ramdisk(join(work, 'root', 'lib', 'modules', release), deps));
    writeFileAtomic(
      join(out, 'stamp.json'),
      `${JSON.stringify({ version: DISCOVERY_IMAGE_VERSION, kernelPackage })}\n`,
    );
    rmSync(dir, { recursive: true, force: true });
    renameSync(out, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  deps.log(
    `discovery image built from ${kernelPackage} in ${((deps.nowMs() - started) / 1000).toFixed(1)} s (initrd ${Math.round(statSync(join(dir, 'initrd.img')).size / 1024)} KiB)`,
  );
  return image(kernelPackage);
}

function readStamp(dir: string): { version: number; kernelPackage: string } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'stamp.json'), 'utf8')) as { version: number; kernelPackage: string };
  } catch {
    return undefined;
  }
}

/** The versioned kernel package the metapackage points at (e.g. linux-image-6.1.0-50-cloud-amd64). */
async function kernelPackageOf(deps: ImageBuildDeps): Promise<string> {
  const shown = await deps.run('apt-cache', ['depends', KERNEL_METAPACKAGE]);
  const name = /Depends:\s*(linux-image-\S+)/.exec(shown.stdout)?.[1];
  if (shown.code !== 0 || !name)
    throw new ImageBuildError(
      `apt knows no ${KERNEL_METAPACKAGE}`,
      'run `apt-get update` on the admin node (its mirror must carry Debian main)',
    );
  return name;
}

function ramdisk(modulesDir: string, deps: ImageBuildDeps): Buffer {
  const modules = indexModules(modulesDir);
  const { order } = moduleLoadOrder(
    RAMDISK_MODULES.filter((m) => modules.has(m)),
    (name) => {
      const file = modules.get(name);
      return file === undefined ? undefined : moduleDepends(readFileSync(file));
    },
  );
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'tmp', 'run', 'etc', 'lib', 'lib/modules'].map(
      (path): CpioEntry => ({ kind: 'dir', path }),
    ),
    // the kernel writes /init's output to /dev/console before devtmpfs is mounted
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: readFileSync(deps.busybox ?? BUSYBOX_STATIC), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    { kind: 'file', path: 'init', data: readFileSync(join(deps.templateDir, 'discovery-init.sh')), mode: 0o755 },
    {
      kind: 'file',
      path: 'bin/udhcpc-script',
      data: readFileSync(join(deps.templateDir, 'udhcpc-script.sh')),
      mode: 0o755,
    },
    ...order.map(
      (name): CpioEntry => ({ kind: 'file', path: `lib/modules/${name}.ko`, data: readFileSync(modules.get(name)!) }),
    ),
    { kind: 'file', path: 'lib/modules/load-order', data: Buffer.from(order.map((m) => `${m}\n`).join('')) },
  ];
  return gzipCpio(entries);
}

/** Module name (dashes as underscores, like the kernel) → .ko file, for every module of the kernel. */
function indexModules(dir: string): Map<string, string> {
  const index = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ko')) index.set(entry.name.slice(0, -3).replace(/-/g, '_'), path);
    }
  };
  if (existsSync(dir)) walk(dir);
  return index;
}
