import { createHash, randomUUID } from 'node:crypto';
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-file.js';
import { generaliseImageRoot } from './image-root.js';
import { ImageBuildError, type ImageBuildDeps } from './discovery-image.js';
import { diskLayout, grubConfig, writeBootSectors, type DiskLayout } from './disk-layout.js';

/** Bumped whenever what goes into the image changes: an image built by another version is rebuilt. */
export const OS_IMAGE_VERSION = 2;
/** What a machine installed from the image has: the lab base's userland plus a kernel, boot loaders and disk tools. */
export const OS_IMAGE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'udev',
  'dbus',
  'kmod',
  'openssh-server',
  'iproute2',
  'ifupdown',
  'sudo',
  'python3',
  'ca-certificates',
  'iputils-ping',
  'procps',
  'e2fsprogs',
  'fdisk',
  'initramfs-tools',
  'linux-image-cloud-amd64',
  'grub-pc-bin',
  'grub-efi-amd64-bin',
];
/** What the admin node runs to build the image (Debian packages debootstrap, fdisk, e2fsprogs, dosfstools, mtools). */
export const OS_IMAGE_TOOLS = ['debootstrap', 'sfdisk', 'mkfs.ext4', 'mkfs.vfat', 'mmd', 'mcopy', 'gzip', 'dd'];
/**
 * The whole disk image: the root file system holds about 550 MB of it, and grows to the machine's disk on
 * first boot. Every byte of it is streamed through gunzip and written at install time, so it is kept small.
 */
const IMAGE_BYTES = 1024 * 1024 ** 2;

export interface OsImage {
  /** Path under the boot server's /images/. */
  path: string;
  file: string;
  sha256: string;
  bytes: number;
  kernel: string;
}

export type OsImageDeps = Pick<ImageBuildDeps, 'run' | 'log' | 'nowMs'> & {
  /** The Debian mirror the admin node's own apt uses (no internet at install time beyond it). */
  mirror: string;
};

/** `<imagesDir>/os/`: the whole-disk image the install agent writes, and its stamp with the checksum. */
export function osImageDir(imagesDir: string): string {
  return join(imagesDir, 'os');
}

/** The built image, or undefined when there is none of this version (the boot server then says so). */
export function readOsImage(imagesDir: string): OsImage | undefined {
  try {
    const stamp = JSON.parse(readFileSync(join(osImageDir(imagesDir), 'stamp.json'), 'utf8')) as OsImage & {
      version: number;
    };
    if (stamp.version !== OS_IMAGE_VERSION || !existsSync(join(osImageDir(imagesDir), stamp.file))) return undefined;
    return {
      path: `os/${stamp.file}`,
      file: stamp.file,
      sha256: stamp.sha256,
      bytes: stamp.bytes,
      kernel: stamp.kernel,
    };
  } catch {
    return undefined;
  }
}

/**
 * A whole-disk Debian 12 image, built once from Debian packages with debootstrap, as Ironic's and MAAS's
 * deploy agents expect one: GPT with a BIOS boot partition, an EFI system partition and an ext4 root, GRUB for
 * both firmware kinds, no host keys, no machine id, no network configuration (the install agent writes those
 * on the machine). No loop device and no mount: the root file system is made from a directory (mkfs.ext4 -d),
 * the ESP with mtools, the boot sectors by hand — so a crash leaves nothing mounted and nothing attached.
 */
export async function ensureOsImage(imagesDir: string, deps: OsImageDeps): Promise<OsImage> {
  const existing = readOsImage(imagesDir);
  if (existing) return existing;
  const started = deps.nowMs();
  mkdirSync(imagesDir, { recursive: true });
  const work = join(imagesDir, `.os-${randomUUID().slice(0, 8)}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const root = join(work, 'root');
    deps.log(`building the OS image with debootstrap from ${deps.mirror} (once; a few minutes)`);
    await must(
      deps,
      'debootstrap',
      ['--variant=minbase', `--include=${OS_IMAGE_PACKAGES.join(',')}`, 'bookworm', root, deps.mirror],
      'debootstrap failed',
      'the admin node needs debootstrap and a working Debian mirror in its apt sources',
    );
    const kernel = readdirSync(join(root, 'boot'))
      .find((f) => f.startsWith('vmlinuz-'))
      ?.slice('vmlinuz-'.length);
    if (!kernel || !existsSync(join(root, 'boot', `initrd.img-${kernel}`)))
      throw new ImageBuildError('the image has no kernel and initrd in /boot', 'see the debootstrap log above');
    const layout = diskLayout(IMAGE_BYTES, randomUUID());
    prepareRoot(root, layout, kernel, deps.mirror);
    const disk = join(work, 'disk.raw');
    await assemble(deps, work, root, layout, disk);
    const file = `debian-12-v${OS_IMAGE_VERSION}.raw.gz`;
    await must(deps, 'sh', ['-c', `gzip -1 -c disk.raw > ${file}`], 'cannot compress the image', 'is the disk full?', {
      cwd: work,
    });
    const sha256 = await sha256Of(join(work, file));
    const out = join(work, 'out');
    mkdirSync(out);
    renameSync(join(work, file), join(out, file));
    const bytes = statSync(join(out, file)).size;
    writeFileAtomic(
      join(out, 'stamp.json'),
      `${JSON.stringify({ version: OS_IMAGE_VERSION, file, sha256, bytes, kernel, packages: OS_IMAGE_PACKAGES })}\n`,
    );
    rmSync(osImageDir(imagesDir), { recursive: true, force: true });
    renameSync(out, osImageDir(imagesDir));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const image = readOsImage(imagesDir)!;
  deps.log(
    `OS image built (kernel ${image.kernel}, ${Math.round(image.bytes / 1024 ** 2)} MiB compressed) in ${((deps.nowMs() - started) / 1000).toFixed(1)} s`,
  );
  return image;
}

/** What the image carries beyond the packages: its own mount table and boot menu, nothing machine-specific. */
function prepareRoot(root: string, layout: DiskLayout, kernel: string, mirror: string): void {
  generaliseImageRoot(root, mirror, 'bootstrap.conf');
  writeFileAtomic(join(root, 'etc/fstab'), `UUID=${layout.rootUuid} / ext4 errors=remount-ro 0 1\n`);
  // GRUB finds its modules and menu on the root file system (the boot sectors only carry the search for it)
  for (const platform of ['i386-pc', 'x86_64-efi']) {
    mkdirSync(join(root, 'boot/grub', platform), { recursive: true });
    // a plain copy: the whole image is built in a work directory and renamed into place when complete
    for (const f of readdirSync(join(root, 'usr/lib/grub', platform)))
      if (f.endsWith('.mod') || f.endsWith('.lst'))
        copyFileSync(join(root, 'usr/lib/grub', platform, f), join(root, 'boot/grub', platform, f));
  }
  // the package manager keeps /vmlinuz and /initrd.img pointing at the newest kernel; GRUB follows the links
  const linked = existsSync(join(root, 'vmlinuz')) && existsSync(join(root, 'initrd.img'));
  writeFileAtomic(
    join(root, 'boot/grub/grub.cfg'),
    grubConfig(
      layout.rootUuid,
      linked
        ? { linux: '/vmlinuz', initrd: '/initrd.img' }
        : { linux: `/boot/vmlinuz-${kernel}`, initrd: `/boot/initrd.img-${kernel}` },
    ),
  );
  writeFileAtomic(join(root, 'usr/local/sbin/bootstrap-grow-root'), GROW_ROOT, 0o755);
  writeFileAtomic(join(root, 'etc/systemd/system/bootstrap-grow-root.service'), GROW_ROOT_UNIT);
  const wants = join(root, 'etc/systemd/system/multi-user.target.wants');
  mkdirSync(wants, { recursive: true });
  rmSync(join(wants, 'bootstrap-grow-root.service'), { force: true });
  symlinkSync('/etc/systemd/system/bootstrap-grow-root.service', join(wants, 'bootstrap-grow-root.service'));
}

/** First boot: the root partition and file system take the whole disk (the image is smaller than any disk). */
const GROW_ROOT = `#!/bin/sh
# bootstrap: grow the root partition to the end of its disk, then the file system. Runs once.
set -eu
part=$(findmnt -no SOURCE /)
disk=/dev/$(lsblk -no PKNAME "$part")
number=$(cat "/sys/class/block/\${part#/dev/}/partition")
echo ', +' | sfdisk --no-reread --no-tell-kernel -N "$number" "$disk" || true
partx -u "$disk" || true
resize2fs "$part"
touch /var/lib/bootstrap-grow-root.done
`;

const GROW_ROOT_UNIT = `[Unit]
Description=bootstrap: grow the root file system to the whole disk (first boot)
ConditionPathExists=!/var/lib/bootstrap-grow-root.done
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/bootstrap-grow-root

[Install]
WantedBy=multi-user.target
`;

/** The partition table with sfdisk, the ext4 root from the directory, the ESP with mtools, GRUB's boot code. */
async function assemble(deps: OsImageDeps, work: string, root: string, layout: DiskLayout, disk: string) {
  await must(deps, 'truncate', ['-s', String(layout.bytes), disk], 'cannot create the disk image', 'is the disk full?');
  await must(
    deps,
    'sh',
    ['-c', 'sfdisk --quiet disk.raw < partitions'],
    'sfdisk failed',
    'util-linux fdisk is needed',
    {
      cwd: work,
      write: { name: 'partitions', text: layout.sfdisk },
    },
  );
  // the boot images, from the image's own GRUB: BIOS core in the BIOS boot partition, EFI loader on the ESP
  const early = `search --no-floppy --fs-uuid --set=root ${layout.rootUuid}\nset prefix=($root)/boot/grub\n`;
  writeFileAtomic(join(root, 'tmp/bootstrap-early.cfg'), early);
  const modules = ['part_gpt', 'ext2', 'search', 'search_fs_uuid', 'normal', 'configfile', 'linux', 'echo', 'test'];
  const grubImage = (platform: string, output: string, extra: readonly string[], needs: string) =>
    must(
      deps,
      'chroot',
      [root, 'grub-mkimage', '-O', platform, '-o', output, '-c', '/tmp/bootstrap-early.cfg', '-p', '/boot/grub'].concat(
        modules,
        extra,
      ),
      `grub-mkimage (${platform}) failed`,
      `the image needs ${needs}`,
    );
  await grubImage('i386-pc', '/tmp/core.img', ['biosdisk'], 'grub-pc-bin');
  await grubImage('x86_64-efi', '/tmp/BOOTX64.EFI', ['fat', 'part_msdos'], 'grub-efi-amd64-bin');
  const core = readFileSync(join(root, 'tmp/core.img'));
  const efi = join(work, 'BOOTX64.EFI');
  renameSync(join(root, 'tmp/BOOTX64.EFI'), efi);
  rmSync(join(root, 'tmp/core.img'));
  rmSync(join(root, 'tmp/bootstrap-early.cfg'));
  const boot = readFileSync(join(root, 'usr/lib/grub/i386-pc/boot.img'));
  const esp = join(work, 'esp.img');
  await must(
    deps,
    'mkfs.vfat',
    ['-C', '-F', '32', '-n', 'EFI', esp, String(layout.esp.bytes / 1024)],
    'mkfs.vfat failed',
    'dosfstools is needed',
  );
  await must(deps, 'mmd', ['-i', esp, '::/EFI', '::/EFI/BOOT'], 'mmd failed', 'mtools is needed');
  await must(deps, 'mcopy', ['-i', esp, efi, '::/EFI/BOOT/BOOTX64.EFI'], 'mcopy failed', 'mtools is needed');
  const rootfs = join(work, 'root.ext4');
  await must(
    deps,
    'mkfs.ext4',
    ['-q', '-F', '-U', layout.rootUuid, '-L', 'root', '-d', root, rootfs, `${layout.root.bytes / 1024}k`],
    'mkfs.ext4 -d failed',
    'e2fsprogs 1.43 or later is needed (mkfs.ext4 -d)',
  );
  writeBootSectors(disk, layout, boot, core);
  for (const [part, file] of [
    [layout.esp, esp],
    [layout.root, rootfs],
  ] as const)
    await must(
      deps,
      'dd',
      [
        `if=${file}`,
        `of=${disk}`,
        'bs=1M',
        `seek=${part.start * 512}`,
        'oflag=seek_bytes',
        'conv=notrunc,sparse',
        'status=none',
      ],
      'cannot write a partition into the image',
      'is the disk full?',
    );
}

async function must(
  deps: OsImageDeps,
  file: string,
  args: readonly string[],
  what: string,
  hint: string,
  options: { cwd?: string; write?: { name: string; text: string } } = {},
): Promise<void> {
  if (options.write && options.cwd) writeFileAtomic(join(options.cwd, options.write.name), options.write.text);
  const result = await deps.run(file, args, { ...(options.cwd ? { cwd: options.cwd } : {}), timeoutMs: 1_800_000 });
  if (result.code !== 0)
    throw new ImageBuildError(`${what}: ${result.stderr.trim().split('\n').slice(-3).join(' / ')}`, hint);
}

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
