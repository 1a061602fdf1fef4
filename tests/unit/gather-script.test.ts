import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
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
    const request = {
      paths: [file, join(dir, 'missing')],
      packages: [],
      services: [],
      guards: [
        { id: 'g1', creates: file },
        { id: 'g2', unless: 'false' },
        { id: 'g3', unless: 'true' },
      ],
    };
    const stdout = execFileSync('sh', ['-s'], { input: gatherScript(request) }).toString();
    const parsed = parseGatherOutput('n', request, stdout);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.facts.paths[file]).toMatchObject({
      exists: true,
      kind: 'file',
      mode: '0640',
      owner: 'root',
      content: 'a = 1\n',
    });
    expect(parsed.facts.paths[join(dir, 'missing')]).toEqual({ exists: false });
    expect(parsed.facts.guards).toEqual({ g1: true, g2: false, g3: true });
  });

  it('keeps the last line a failing `unless` guard printed, stdout or stderr, control characters dropped: what it says is left to do', () => {
    const request = {
      paths: [],
      packages: [],
      services: [],
      guards: [
        {
          id: 'todo',
          unless:
            "echo checking segments\necho 'to do: add host cmp2 to segment compute\t(\\033[31mnow\\033[0m)' >&2\necho\nexit 1",
        },
        { id: 'quiet', unless: 'exit 1' },
        { id: 'done', unless: 'echo all there' },
        { id: 'made', creates: '/' },
      ],
    };
    const stdout = execFileSync('sh', ['-s'], { input: gatherScript(request) }).toString();
    const parsed = parseGatherOutput('n', request, stdout);
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(parsed.facts.guards).toEqual({ todo: false, quiet: false, done: true, made: true });
    expect(parsed.facts.guardReasons).toEqual({ todo: 'to do: add host cmp2 to segment compute ([31mnow[0m)' });
  });

  it("runs an `unless` guard without its text in any process's arguments (it may carry a password), and leaves no copy behind", () => {
    // the guard passes only when its own shell's command line does not carry its text
    const unless = "MYSQL_PWD='s3cr3t-marker' ; ! tr '\\0' ' ' < /proc/$$/cmdline | grep -q s3cr3t-marker";
    const request = {
      paths: [],
      packages: [],
      services: [],
      guards: [
        { id: 'g', unless },
        { id: 'tricky', unless: 'BOOTSTRAP_GUARD_1_END\nfalse' },
      ],
    };
    const before = readdirSync('/run').filter((f) => f.startsWith('bootstrap-guards'));
    const stdout = execFileSync('sh', ['-s'], { input: gatherScript(request) }).toString();
    const parsed = parseGatherOutput('n', request, stdout);
    expect(parsed.ok && parsed.facts.guards).toEqual({ g: true, tricky: false });
    expect(readdirSync('/run').filter((f) => f.startsWith('bootstrap-guards'))).toEqual(before);
  });

  it('reports the restarts an interrupted run still owes (marker files on the node)', () => {
    const result = parseGatherOutput(
      'n',
      { paths: [], packages: [], services: [], guards: [] },
      `R\tmariadb\nR\tkeystone\n${END_MARKER}\n`,
    );
    expect(result.ok && result.facts.pendingRestarts).toEqual(['mariadb', 'keystone']);
    expect(gatherScript({ paths: [], packages: [], services: [], guards: [] })).toContain(
      `for f in ${PENDING_RESTART_DIR}/*;`,
    );
  });

  it('treats output without the end marker as a failed gather, never as facts', () => {
    const result = parseGatherOutput('n', { paths: [], packages: [], services: [], guards: [] }, 'P\t0\tabsent\n');
    expect(result.ok).toBe(false);
  });
});
