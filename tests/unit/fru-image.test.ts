import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fruImage } from '../../src/lab/fru-image.js';

describe('lab FRU image', () => {
  const image = fruImage({
    manufacturer: 'LabVendor',
    product: 'LabServer ctl1',
    serial: 'SRV0001',
    partNumber: 'PN-42',
    boardSerial: 'BRD0001',
    assetTag: 'asset-ctl1',
  });

  it('is 256 bytes with valid zero checksums on the header and every area', () => {
    expect(image.length).toBe(256);
    const sum = (from: number, to: number) => image.subarray(from, to).reduce((a, b) => (a + b) & 0xff, 0);
    expect(sum(0, 8)).toBe(0);
    const board = image[3]! * 8;
    const product = image[4]! * 8;
    expect(sum(board, board + image[board + 1]! * 8)).toBe(0);
    expect(sum(product, product + image[product + 1]! * 8)).toBe(0);
  });

  it('carries the serial and product where FRU readers look for them', () => {
    const text = image.toString('latin1');
    expect(text).toContain('SRV0001');
    expect(text).toContain('LabServer ctl1');
    expect(execFileSync('sh', ['-c', 'command -v ipmitool || true']).toString()).not.toBe('');
  });
});
