import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { END_MARKER, gatherScript, parseGatherOutput, PENDING_RESTART_DIR } from '../../src/plan/gather-script.js';

describe('fact gathering script', () => {
  it('probes files (content, checksum, mode, owner), absent paths and guards in one run of sh', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gather-'));
    const file = join(dir, "we'ird name.conf");
    writeFileSync(file, 'a = 1\n');
    chmodSync(file, 0o640);
    const request = { paths: [file, join(dir, 'missing')], packages: [], services: [], guards: [{ id: 'g1', creates: file }, { id: 'g2', unless: 'false' }, { id: 'g3', unless: 'true' }] };
    const stdout = execFileSync('sh', ['-s'], { input: gatherScript(request) }).toString();
    const parsed = parseGatherOutput('n', request, stdout);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.facts.paths[file]).toMatchObject({ exists: true, kind: 'file', mode: '0640', owner: 'root', content: 'a = 1\n' });
    expect(parsed.facts.paths[join(dir, 'missing')]).toEqual({ exists: false });
    expect(parsed.facts.guards).toEqual({ g1: true, g2: false, g3: true });
  });

  it('reports the restarts an interrupted run still owes (marker files on the node)', () => {
    const result = parseGatherOutput('n', { paths: [], packages: [], services: [], guards: [] }, `R\tmariadb\nR\tkeystone\n${END_MARKER}\n`);
    expect(result.ok && result.facts.pendingRestarts).toEqual(['mariadb', 'keystone']);
    expect(gatherScript({ paths: [], packages: [], services: [], guards: [] })).toContain(`for f in ${PENDING_RESTART_DIR}/*;`);
  });

  it('treats output without the end marker as a failed gather, never as facts', () => {
    const result = parseGatherOutput('n', { paths: [], packages: [], services: [], guards: [] }, 'P\t0\tabsent\n');
    expect(result.ok).toBe(false);
  });
});
