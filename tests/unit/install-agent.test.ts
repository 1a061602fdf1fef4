import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootScripts } from '../../src/provision/boot-scripts.js';

const REPO = join(import.meta.dirname, '../..');
const AGENT = join(REPO, 'share', 'provisioner', 'image-installer.sh');
const MAC = '52:54:00:aa:bb:01';
const GiB = 1024 ** 3;
/** The ramdisk's userland: busybox applets only, as on the machine. */
const APPLETS =
  'sh cat dd tr wc cut sed head tail tee gunzip wget sha256sum mkfifo rm mkdir sleep blockdev printf echo od'.split(
    ' ',
  );

/**
 * The install agent under busybox against a pretend machine: its disks are files (BOOTSTRAP_DEV) described by a
 * sysfs tree (BOOTSTRAP_SYSFS), its provisioner a local HTTP server that serves the preseed, the image and takes
 * the failure callback. What it proves: which disk it picks, what it refuses, that a damaged image never stays
 * on a disk, and that each failure reaches the provisioner with its step and log.
 */
describe('the install agent (share/provisioner/image-installer.sh) on a pretend machine', () => {
  const image = Buffer.concat([Buffer.from('BOOTSTRAP-IMAGE'), Buffer.alloc(3 * 1024 * 1024, 7)]);
  const gz = gzipSync(image);
  const scripts = new BootScripts(join(REPO, 'share', 'provisioner'));
  const bin = mkdtempSync(join(tmpdir(), 'agent-bin-'));
  let server: Server;
  let base = '';
  let preseed = '';
  const failures: { step: string; token: string; body: string }[] = [];

  beforeAll(async () => {
    for (const applet of APPLETS) symlinkSync('/bin/busybox', join(bin, applet));
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://agent');
      if (url.pathname === `/preseed/${MAC}`) return void response.end(preseed);
      if (url.pathname === '/images/os/test.raw.gz') return void response.end(gz);
      if (request.method === 'POST' && url.pathname === `/callback/${MAC}/failed`) {
        const chunks: Buffer[] = [];
        request.on('data', (c: Buffer) => chunks.push(c));
        request.on('end', () => {
          failures.push({
            step: url.searchParams.get('step') ?? '',
            token: url.searchParams.get('token') ?? '',
            body: Buffer.concat(chunks).toString(),
          });
          response.end('ok\n');
        });
        return;
      }
      response.statusCode = 404;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server?.close());

  /** A machine with these disks (sparse files), optionally with data at the start of some. */
  const machine = (disks: { name: string; bytes: number; serial: string; data?: string }[]) => {
    const root = mkdtempSync(join(tmpdir(), 'agent-machine-'));
    for (const disk of disks) {
      mkdirSync(join(root, 'sys', 'block', disk.name, 'device'), { recursive: true });
      writeFileSync(join(root, 'sys', 'block', disk.name, 'size'), `${disk.bytes / 512}\n`);
      writeFileSync(join(root, 'sys', 'block', disk.name, 'device', 'serial'), `${disk.serial}\n`);
      mkdirSync(join(root, 'dev'), { recursive: true });
      const fd = openSync(join(root, 'dev', disk.name), 'w');
      if (disk.data) writeSync(fd, Buffer.from(disk.data), 0, disk.data.length, 0);
      closeSync(fd);
    }
    mkdirSync(join(root, 'tmp'));
    return root;
  };
  const run = async (
    root: string,
    settings: { serial?: string; name?: string; minBytes?: number; wipe?: boolean; sha256?: string } = {},
  ) => {
    preseed = scripts.preseed({
      server: base,
      mac: MAC,
      node: 'n1',
      deployment: 'lab',
      address: '10.77.0.21',
      netmask: '255.255.255.0',
      proxy: '',
      token: 'abc123',
      image: `${base}/images/os/test.raw.gz`,
      imageSha256: settings.sha256 ?? createHash('sha256').update(gz).digest('hex'),
      rootName: settings.name ?? '',
      rootSerial: settings.serial ?? '',
      rootMinBytes: settings.minBytes === undefined ? '' : String(settings.minBytes),
      wipe: settings.wipe ?? false,
    });
    const before = failures.length;
    const child = spawn(join(bin, 'sh'), [AGENT, `${base}/preseed/${MAC}`], {
      env: {
        PATH: bin,
        BOOTSTRAP_SYSFS: join(root, 'sys'),
        BOOTSTRAP_DEV: join(root, 'dev'),
        TMPDIR: join(root, 'tmp'),
      },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    return { code, output, failure: failures.slice(before).at(-1) };
  };
  const MiB = 1024 * 1024;
  const head = (root: string, disk: string, bytes = 32) => readFileSync(join(root, 'dev', disk)).subarray(0, bytes);
  /** The image is on the disk past its first MiB, which the agent clears when it stops after writing. */
  const imageAfterFirstMiB = (root: string, disk: string) =>
    readFileSync(join(root, 'dev', disk))
      .subarray(MiB, image.length)
      .equals(image.subarray(MiB)) && head(root, disk, MiB).every((b) => b === 0);

  it('picks the smallest disk of at least 4 GiB when the inventory gives no hint, and writes the image onto it', async () => {
    const root = machine([
      { name: 'sda', bytes: 16 * GiB, serial: 'BIG' },
      { name: 'vda', bytes: 8 * GiB, serial: 'MID' },
      { name: 'vdb', bytes: 1 * GiB, serial: 'TINY' },
      { name: 'loop0', bytes: 8 * GiB, serial: '' },
    ]);
    const result = await run(root);
    expect(result.output).toContain('installer: root disk /dev/vda (8192 MiB)');
    expect(result.output).toContain('installer: image written and verified');
    // a pretend disk has no partitions to mount: the agent gets as far as configuring, says so, and leaves the
    // half-installed disk empty at its start (it does not boot, and the next attempt needs no consent to wipe)
    expect(result.code).toBe(1);
    expect(result.failure).toMatchObject({ step: 'configure', token: 'abc123' });
    expect(imageAfterFirstMiB(root, 'vda')).toBe(true);
  }, 30_000);

  it('follows the root device hints: the disk with that serial, though larger', async () => {
    const root = machine([
      { name: 'vda', bytes: 8 * GiB, serial: 'MID' },
      { name: 'sdb', bytes: 16 * GiB, serial: 'S3Z1NB0K' },
    ]);
    const result = await run(root, { serial: 'S3Z1NB0K' });
    expect(result.output).toContain('installer: root disk /dev/sdb (16384 MiB)');
    expect(imageAfterFirstMiB(root, 'sdb')).toBe(true);
    expect(readFileSync(join(root, 'dev', 'vda')).every((b) => b === 0)).toBe(true);
  }, 30_000);

  it('stops at step disk when no disk matches every hint, listing the disks it saw', async () => {
    const root = machine([{ name: 'vda', bytes: 8 * GiB, serial: 'MID' }]);
    const result = await run(root, { serial: 'MID', minBytes: 10 * GiB });
    expect(result.code).toBe(1);
    expect(result.failure?.step).toBe('disk');
    expect(result.failure?.body.split('\n')[0]).toBe(
      "no disk matches the root device hints (name '', serial 'MID', at least 10737418240 bytes); disks: vda(MID, 8192 MiB)",
    );
    expect(result.failure?.body).toContain('--- install log ---');
  }, 30_000);

  it('refuses a disk that is not empty unless the inventory allows wiping it, and leaves it as it was', async () => {
    const root = machine([{ name: 'vda', bytes: 8 * GiB, serial: 'MID', data: 'an old partition table' }]);
    const refused = await run(root);
    expect(refused.code).toBe(1);
    expect(refused.failure?.step).toBe('wipe');
    expect(refused.failure?.body).toMatch(/^disk \/dev\/vda is not empty .* set install\.wipe: true for n1/);
    expect(head(root, 'vda', 22).toString()).toBe('an old partition table');
    const allowed = await run(root, { wipe: true });
    expect(allowed.output).toContain('installer: image written and verified');
    expect(imageAfterFirstMiB(root, 'vda')).toBe(true);
    // what an install of bootstrap's own left behind is no one's data: the next attempt needs no consent
    const again = await run(root);
    expect(again.output).toContain('installer: image written and verified');
  }, 30_000);

  it("never leaves an image whose SHA-256 is not the provisioner's on the disk: step checksum, first MiB cleared", async () => {
    const root = machine([{ name: 'vda', bytes: 8 * GiB, serial: 'MID' }]);
    const result = await run(root, { sha256: 'f'.repeat(64) });
    expect(result.code).toBe(1);
    expect(result.failure?.step).toBe('checksum');
    expect(result.failure?.body).toMatch(/^the image's SHA-256 is [0-9a-f]{64}, the provisioner's is f{64}/);
    expect(head(root, 'vda', MiB).every((b) => b === 0)).toBe(true);
    expect(readFileSync(join(root, 'dev', 'vda')).length).toBe(image.length);
  }, 30_000);
});
