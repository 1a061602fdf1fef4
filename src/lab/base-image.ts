import { existsSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { mustRun } from '../util/exec.js';
import { hostMirror } from '../provision/host-mirror.js';
import { generaliseImageRoot } from '../provision/image-root.js';

/** Packages every lab node image has: real systemd as PID 1, sshd, sudo, python3 for OpenStack tooling. */
export const IMAGE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'iproute2',
  'sudo',
  'python3',
  'ca-certificates',
  'iputils-ping',
  'procps',
  'ifupdown',
];

/** Units that cannot work in a container node; masked in the lab image only. */
export const MASKED_UNITS = [
  'systemd-logind.service',
  'systemd-timesyncd.service',
  'getty@tty1.service',
  'console-getty.service',
  'serial-getty@.service',
  'systemd-udevd.service',
  'systemd-udev-trigger.service',
  'systemd-modules-load.service',
  'systemd-remount-fs.service',
  'systemd-sysctl.service',
  'systemd-firstboot.service',
  'sys-kernel-config.mount',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
  'sys-fs-fuse-connections.mount',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'e2scrub_reap.service',
  'systemd-hwdb-update.service',
];

export const IMAGE_VERSION = 2;

/**
 * Builds (once) the shared read-only Debian 12 root every container node overlays. Cached outside the
 * repository; a half-built image is never used (built in a temp dir, renamed when complete).
 */
export async function ensureBaseImage(cacheDir: string, log: (line: string) => void): Promise<string> {
  const image = join(cacheDir, `bookworm-v${IMAGE_VERSION}`);
  if (existsSync(join(image, '.complete'))) return image;
  mkdirSync(cacheDir, { recursive: true });
  const building = `${image}.building`;
  rmSync(building, { recursive: true, force: true });
  const mirror = hostMirror();
  log(`building the lab base image with debootstrap from ${mirror} (once; about a minute)`);
  await mustRun(
    'debootstrap',
    ['--variant=minbase', `--include=${IMAGE_PACKAGES.join(',')}`, 'bookworm', building, mirror],
    { timeoutMs: 1_800_000 },
  );
  for (const unit of MASKED_UNITS) {
    const link = join(building, 'etc/systemd/system', unit);
    try {
      unlinkSync(link);
    } catch {
      // not there yet
    }
    symlinkSync('/dev/null', link);
  }
  // Every node generates its own host keys and machine id on first boot.
  generaliseImageRoot(building, mirror, 'bootstrap-lab.conf');
  writeFileSync(join(building, '.complete'), `${IMAGE_PACKAGES.join(' ')}\n`);
  renameSync(building, image);
  return image;
}
