import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What makes a debootstrapped root an image many machines start from: no host keys and no machine id (each
 * machine makes its own on first boot or at install), apt pointed at the site's mirror, sshd with keys only,
 * and no downloaded packages left behind. Shared by the lab's base image and the OS image.
 */
export function generaliseImageRoot(root: string, mirror: string, sshdConfig: string): void {
  for (const f of readdirSync(join(root, 'etc/ssh'))) if (f.startsWith('ssh_host_')) rmSync(join(root, 'etc/ssh', f));
  writeFileSync(join(root, 'etc/machine-id'), '');
  writeFileSync(
    join(root, 'etc/apt/sources.list'),
    `deb ${mirror} bookworm main\ndeb ${mirror} bookworm-updates main\n`,
  );
  writeFileSync(
    join(root, 'etc/ssh/sshd_config.d', sshdConfig),
    'PasswordAuthentication no\nPermitRootLogin prohibit-password\nUseDNS no\n',
  );
  rmSync(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
  mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
}
