import { gzipSync } from 'node:zlib';

/** One member of an initramfs: a directory, a regular file, a symlink or a character device. */
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'chardev'; path: string; major: number; minor: number; mode?: number };

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, chardev: 0o020000 } as const;

/**
 * The "newc" cpio format the Linux kernel unpacks as an initramfs (no cpio binary needed, and the archive
 * is byte-for-byte reproducible: owner root, mtime 0). Parents must come before their children.
 */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let inode = 1;
  for (const entry of entries) {
    const body =
      entry.kind === 'file' ? entry.data : entry.kind === 'symlink' ? Buffer.from(entry.target) : Buffer.alloc(0);
    const defaultMode =
      entry.kind === 'dir' ? 0o755 : entry.kind === 'symlink' ? 0o777 : entry.kind === 'chardev' ? 0o600 : 0o644;
    const mode = TYPE_BITS[entry.kind] | ('mode' in entry && entry.mode !== undefined ? entry.mode : defaultMode);
    const device = entry.kind === 'chardev' ? [entry.major, entry.minor] : [0, 0];
    parts.push(
      member(entry.path.replace(/^\/+/, ''), inode++, mode, entry.kind === 'dir' ? 2 : 1, body, device[0]!, device[1]!),
    );
  }
  parts.push(member('TRAILER!!!', 0, 0, 1, Buffer.alloc(0), 0, 0));
  return Buffer.concat(parts);
}

export function gzipCpio(entries: readonly CpioEntry[]): Buffer {
  return gzipSync(cpioNewc(entries), { level: 9 });
}

function member(
  name: string,
  inode: number,
  mode: number,
  links: number,
  body: Buffer,
  rdevMajor: number,
  rdevMinor: number,
): Buffer {
  const nameBytes = Buffer.from(`${name}\0`);
  const fields = [inode, mode, 0, 0, links, 0, body.length, 0, 0, rdevMajor, rdevMinor, nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}`, 'ascii');
  return Buffer.concat([header, nameBytes, padding(header.length + nameBytes.length), body, padding(body.length)]);
}

/** newc aligns the name and the data to 4 bytes. */
function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}
