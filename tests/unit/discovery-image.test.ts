import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpioNewc } from '../../src/util/cpio.js';
import { moduleDepends, moduleLoadOrder } from '../../src/provision/kernel-modules.js';
import { runCommand } from '../../src/util/exec.js';

describe('initramfs archive (newc cpio)', () => {
  const archive = cpioNewc([
    { kind: 'dir', path: 'bin' },
    { kind: 'file', path: '/bin/hello', data: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' },
    { kind: 'chardev', path: 'console', major: 5, minor: 1 },
  ]);

  it('is what the kernel (and GNU-compatible cpio readers) unpack: names, modes, links and data intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpio-'));
    writeFileSync(join(dir, 'a.cpio'), archive);
    // busybox cpio reads newc like the kernel's unpacker; -t lists, -i extracts
    const listed = await runCommand('busybox', ['sh', '-c', `cd ${dir} && busybox cpio -t < a.cpio`]);
    expect(listed.stdout.split('\n').filter(Boolean)).toEqual(['bin', 'bin/hello', 'bin/sh', 'console']);
    const out = await runCommand('busybox', [
      'sh',
      '-c',
      `mkdir ${dir}/x && cd ${dir}/x && busybox cpio -i -d bin/hello bin/sh < ../a.cpio && ls -l bin`,
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(readFileSync(join(dir, 'x', 'bin', 'hello'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(out.stdout).toMatch(/-rwxr-xr-x .* hello/);
    expect(out.stdout).toMatch(/sh -> busybox/);
  });

  it('aligns every header and body to 4 bytes and ends with the trailer', () => {
    expect(archive.length % 4).toBe(0);
    expect(archive.subarray(0, 6).toString()).toBe('070701');
    expect(archive.toString('latin1')).toContain('TRAILER!!!\0');
  });
});

describe('kernel module order for the discovery ramdisk', () => {
  it("reads depends= from a module's .modinfo and loads dependencies first, once each", () => {
    const ko = (depends: string) =>
      Buffer.concat([
        Buffer.from('\x7fELF....license=GPL\0'),
        Buffer.from(`depends=${depends}\0`),
        Buffer.from('vermagic=6.1\0'),
      ]);
    const modules: Record<string, Buffer> = {
      virtio_net: ko('net_failover,virtio,virtio_ring'),
      net_failover: ko('failover'),
      failover: ko(''),
      virtio: ko(''),
      virtio_ring: ko(''),
      virtio_pci: ko('virtio_pci_legacy_dev,virtio_pci_modern_dev,virtio,virtio_ring'),
      virtio_pci_legacy_dev: ko(''),
      virtio_pci_modern_dev: ko(''),
    };
    expect(moduleDepends(modules.virtio_net!)).toEqual(['net_failover', 'virtio', 'virtio_ring']);
    const { order, missing } = moduleLoadOrder(['virtio_pci', 'virtio_net', 'e1000'], (name) =>
      modules[name] ? moduleDepends(modules[name]) : undefined,
    );
    expect(missing).toEqual(['e1000']);
    expect(order).toEqual([
      'virtio_pci_legacy_dev',
      'virtio_pci_modern_dev',
      'virtio',
      'virtio_ring',
      'virtio_pci',
      'failover',
      'net_failover',
      'virtio_net',
    ]);
  });
});
