import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_HELP } from '../../src/cli/command-help.js';
import { COMMANDS } from '../../src/cli/main.js';

const REPO = join(import.meta.dirname, '../..');
const cli = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('node', [join(REPO, 'bin/bootstrap.js'), ...args], { cwd: REPO }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
/** Accepted only to be refused with a reason (a secret on the command line): not offered in help. */
const REFUSED = new Set(['token']);

describe('help for every command', () => {
  it('documents every option each command accepts, with examples', () => {
    expect(Object.keys(COMMAND_HELP).sort()).toEqual(Object.keys(COMMANDS).sort());
    for (const [name, command] of Object.entries(COMMANDS)) {
      const documented = COMMAND_HELP[name]!.options.map(([option]) => option.split(' ')[0]);
      for (const option of [...command.values, ...command.booleans].filter((o) => !REFUSED.has(o)))
        expect(documented, `${name} --${option}`).toContain(`--${option}`);
      expect(COMMAND_HELP[name]!.examples.length, name).toBeGreaterThan(0);
    }
  });

  it.each(Object.keys(COMMAND_HELP))(
    'bootstrap %s --help (and bootstrap help COMMAND) prints usage, options, examples and exit codes, exit 0',
    async (name) => {
      const [flag, word] = await Promise.all([cli([name, '--help']), cli(['help', name])]);
      expect(flag.code, flag.stderr).toBe(0);
      expect(flag.stdout).toMatch(new RegExp(`^Usage: bootstrap ${name} `));
      expect(flag.stdout).toContain('\nOptions:\n');
      expect(flag.stdout).toMatch(/\nExamples:\n {2}.*bootstrap /);
      expect(flag.stdout).toMatch(/\nExit codes: 0 /);
      expect(word).toEqual(flag);
    },
  );

  it('help for a command that does not exist is a usage error that lists the commands', async () => {
    const result = await cli(['help', 'aply']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'aply'; the commands: validate, plan, apply");
  });

  it('bash completion offers commands, options, subcommands, genes and the node names of the inventory on the line', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'completion-'));
    writeFileSync(join(bin, 'bootstrap'), `#!/bin/sh\nexec node ${join(REPO, 'bin/bootstrap.js')} "$@"\n`);
    chmodSync(join(bin, 'bootstrap'), 0o755);
    const script = (await cli(['completion', 'bash'])).stdout;
    writeFileSync(join(bin, 'completion.bash'), script);
    const complete = (...words: string[]) =>
      spawnSync(
        'bash',
        [
          '-c',
          `source ${join(bin, 'completion.bash')}; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _bootstrap; echo "\${COMPREPLY[*]}"`,
          'bash',
          'bootstrap',
          ...words,
        ],
        { cwd: REPO, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' },
      ).stdout.trim();
    expect(complete('ap')).toBe('apply');
    expect(complete('apply', 'inventory/lab.yaml', '--li')).toBe('--limit --listen');
    expect(complete('apply', 'inventory/lab.yaml', '--limit', 'c')).toBe('cmp1 cmp2 ctl1');
    expect(complete('lab', 'in')).toBe('inject');
    expect(complete('lab', 'inject', 'CLOUD-COMPUTE-D')).toBe('CLOUD-COMPUTE-DISABLED CLOUD-COMPUTE-DOWN');
    expect(complete('power', 'status', 'ct')).toBe('ctl1');
    expect((await cli(['completion', 'zsh'])).stdout).toContain('bashcompinit');
  });
});
