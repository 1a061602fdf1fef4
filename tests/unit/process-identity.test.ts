import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processNamesDirectory, processStartTime } from '../../src/util/process-identity.js';

describe('which process a recorded pid still is', () => {
  it('a live process has a start time that stays the same and names the directories in its arguments; a gone one has neither', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'identity-'));
    const child = spawn('sh', ['-c', 'sleep 30; true', 'sh', `file=${dir}/disk.img,if=none`], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    const start = processStartTime(child.pid!);
    expect(start).toMatch(/^\d+$/);
    expect(processStartTime(child.pid!)).toBe(start);
    expect(processStartTime(process.pid)).not.toBe(start);
    expect(processNamesDirectory(child.pid!, dir)).toBe(true);
    expect(processNamesDirectory(child.pid!, `${dir}-other`)).toBe(false);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(processStartTime(child.pid!)).toBeUndefined();
    expect(processNamesDirectory(child.pid!, dir)).toBe(false);
  });
});
