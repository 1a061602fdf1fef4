import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepScript } from '../../src/apply/step-scripts.js';
import type { DesiredResource } from '../../src/plan/desired-types.js';
import type { PlanStep } from '../../src/plan/plan-types.js';

const step = (kind: PlanStep['kind'], extra: Partial<PlanStep> = {}): PlanStep => ({
  id: 'b/r:x',
  node: 'n',
  batch: 0,
  barclamp: 'b',
  role: 'r',
  kind,
  action: 'run',
  summary: '',
  changes: [],
  digest: '',
  ...extra,
});
const command = (run: string, notify: string[]): DesiredResource => ({
  type: 'command',
  id: 'b/r:command:c',
  name: 'c',
  run,
  timeoutSeconds: 60,
  retries: 0,
  notify,
  sensitive: false,
});

describe('remote step scripts', () => {
  it('a failing command fails its step with its own exit code, and owes no restart', () => {
    const script = stepScript(step('command'), command('echo doing; exit 3', ['svc']), { compareBefore: false });
    const result = spawnSync('sh', ['-c', script.replace(/mkdir -p \/var\/lib\/bootstrap[^\n]*/, 'echo MARKED')]);
    expect(result.status).toBe(3);
    expect(result.stdout.toString()).toBe('doing\n');
  });

  it('a successful command that notifies a service marks the restart as owed, durably, on the node', () => {
    const script = stepScript(step('command'), command('true', ['keystone']), { compareBefore: false });
    expect(
      execFileSync('sh', ['-c', script.replace(/mkdir -p \/var\/lib\/bootstrap[^\n]*/, 'echo MARKED')]).toString(),
    ).toBe('MARKED\n');
    expect(script).toMatch(/touch '?\/var\/lib\/bootstrap\/restart-pending\/keystone'? && sync$/);
  });

  it('a written systemd unit is followed by daemon-reload', () => {
    const unit: DesiredResource = {
      type: 'file',
      id: 'b/r:file:/etc/systemd/system/x.service',
      path: '/etc/systemd/system/x.service',
      content: '[Unit]\n',
      mode: '0644',
      owner: 'root',
      group: 'root',
      notify: ['x'],
      sensitive: false,
    };
    expect(
      stepScript(step('file', { after: { sha256: 'x', mode: '0644', owner: 'root', group: 'root' } }), unit, {
        compareBefore: false,
      }),
    ).toMatch(/systemctl daemon-reload[\s\S]*restart-pending\/x/);
  });

  describe('restarts owed to a service', () => {
    const service: DesiredResource = { type: 'service', id: 'b/r:service:x', name: 'x', enabled: true, started: true };
    /** Runs a step script against a fake systemctl; returns the systemctl calls and whether a restart is still owed. */
    /** Runs a step script against a fake systemctl (and journalctl); returns the state-changing systemctl calls, whether a restart is still owed, the exit status and stderr. */
    function runOnFakeNode(
      script: string,
      state: { active: boolean; owed: boolean; afterStart?: string },
      expectedStatus = 0,
    ): { calls: string[]; owed: boolean; stderr: string } {
      const dir = mkdtempSync(join(tmpdir(), 'bootstrap-steps-'));
      mkdirSync(join(dir, 'bin'));
      mkdirSync(join(dir, 'pending'));
      if (state.owed) writeFileSync(join(dir, 'pending', 'x'), '');
      const settled = state.afterStart ?? 'ActiveState=active\\nSubState=running\\nNRestarts=0';
      writeFileSync(
        join(dir, 'bin', 'systemctl'),
        `#!/bin/sh\necho "$*" >> ${dir}/calls\n[ "$1" = is-active ] && exit ${state.active ? 0 : 3}\n[ "$1" = show ] && printf '${settled}\\n'\nexit 0\n`,
        { mode: 0o755 },
      );
      // the reason, then the cgroup noise a container's systemd writes on every stop of the unit
      writeFileSync(
        join(dir, 'bin', 'journalctl'),
        '#!/bin/sh\necho "x: fatal: cannot open /etc/x.conf"\nfor i in $(seq 40); do echo "Failed to kill control group /system.slice/x.service, ignoring: Input/output error"; done\n',
        { mode: 0o755 },
      );
      const result = spawnSync(
        'sh',
        ['-c', script.replaceAll('/var/lib/bootstrap/restart-pending', join(dir, 'pending'))],
        { env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } },
      );
      expect(result.status, result.stderr.toString()).toBe(expectedStatus);
      const calls = existsSync(join(dir, 'calls'))
        ? readFileSync(join(dir, 'calls'), 'utf8')
            .trim()
            .split('\n')
            .filter((c) => !/^(show|status|reset-failed) /.test(c))
        : [];
      const owed = existsSync(join(dir, 'pending', 'x'));
      rmSync(dir, { recursive: true });
      return { calls, owed, stderr: result.stderr.toString() };
    }
    const handler = stepScript(step('handler', { service: 'x' }), undefined, { compareBefore: false });
    const start = stepScript(step('service', { changes: ['start'] }), service, { compareBefore: false });

    it('a notified restart restarts the service and clears what it owed', () => {
      expect(runOnFakeNode(handler, { active: true, owed: true })).toMatchObject({ calls: ['restart x'], owed: false });
    });

    it('starting a stopped service settles what it owed, so the handler after it does not restart it again', () => {
      expect(runOnFakeNode(start, { active: false, owed: true })).toMatchObject({
        calls: ['is-active -q x', 'start x'],
        owed: false,
      });
      expect(runOnFakeNode(handler, { active: true, owed: false }).calls).toEqual([]);
    });

    it('a service that is already running (a package started it with its default configuration) keeps its owed restart', () => {
      expect(runOnFakeNode(start, { active: true, owed: true })).toMatchObject({
        calls: ['is-active -q x'],
        owed: true,
      });
    });

    it('a service that dies right after a successful start is a crash loop, with its journal, and fails the step', () => {
      for (const afterStart of [
        'ActiveState=activating\\nSubState=auto-restart\\nNRestarts=0',
        'ActiveState=active\\nSubState=running\\nNRestarts=2',
        'ActiveState=failed\\nSubState=failed\\nNRestarts=5',
      ]) {
        const { stderr } = runOnFakeNode(start, { active: false, owed: false, afterStart }, 3);
        expect(stderr).toContain('x is crash-looping: it exited right after its start');
        expect(stderr).toContain('x: fatal: cannot open /etc/x.conf');
        expect(stderr).not.toContain('Failed to kill control group');
      }
      expect(
        runOnFakeNode(
          handler,
          { active: true, owed: true, afterStart: 'ActiveState=activating\\nSubState=auto-restart\\nNRestarts=1' },
          3,
        ).stderr,
      ).toContain('x is crash-looping: it exited right after its restart');
    });
  });

  describe('package installs', () => {
    /** Runs the package step with a fake apt-get that records whether a service start would have been allowed. */
    function install(existingPolicy?: string): { policyDuringInstall: string; policyAfter: string | undefined } {
      const dir = mkdtempSync(join(tmpdir(), 'bootstrap-pkg-'));
      mkdirSync(join(dir, 'bin'));
      const policy = join(dir, 'policy-rc.d');
      if (existingPolicy !== undefined) writeFileSync(policy, existingPolicy, { mode: 0o755 });
      writeFileSync(
        join(dir, 'bin', 'apt-get'),
        `#!/bin/sh\n${policy} nova-compute start; echo "$?" > ${dir}/during\n`,
        { mode: 0o755 },
      );
      const script = stepScript(
        step('package', { changes: ['nova-compute'] }),
        { type: 'package', id: 'b/r:package:nova-compute', names: ['nova-compute'] },
        { compareBefore: false },
      );
      const result = spawnSync('sh', ['-c', script.replaceAll('/usr/sbin/policy-rc.d', policy)], {
        env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
      });
      expect(result.status, result.stderr.toString()).toBe(0);
      const out = {
        policyDuringInstall: readFileSync(join(dir, 'during'), 'utf8').trim(),
        policyAfter: existsSync(policy) ? readFileSync(policy, 'utf8') : undefined,
      };
      rmSync(dir, { recursive: true });
      return out;
    }

    it('deny service starts while they run (policy-rc.d exit 101), and leave no policy behind', () => {
      expect(install()).toEqual({ policyDuringInstall: '101', policyAfter: undefined });
    });

    it("leave an operator's own policy-rc.d as it is", () => {
      expect(install('#!/bin/sh\nexit 0\n')).toEqual({ policyDuringInstall: '0', policyAfter: '#!/bin/sh\nexit 0\n' });
    });

    /** Runs the package step against a fake apt-get that answers `install` with the given outcomes in turn; returns its calls. */
    function aptCalls(installOutcomes: { code: number; stderr: string }[]): {
      calls: string[];
      status: number | null;
      stderr: string;
    } {
      const dir = mkdtempSync(join(tmpdir(), 'bootstrap-pkg-'));
      mkdirSync(join(dir, 'bin'));
      const answers = installOutcomes
        .map((o, i) => `[ "$n" = ${i + 1} ] && { echo '${o.stderr}' >&2; exit ${o.code}; }`)
        .join('\n');
      writeFileSync(
        join(dir, 'bin', 'apt-get'),
        `#!/bin/sh\necho "$*" | grep -q ' update' && { echo update >> ${dir}/calls; exit 0; }\nn=$(($(grep -c install ${dir}/calls 2>/dev/null || echo 0) + 1))\necho install >> ${dir}/calls\n${answers}\nexit 0\n`,
        { mode: 0o755 },
      );
      const script = stepScript(
        step('package', { changes: ['ed'] }),
        { type: 'package', id: 'b/r:package:ed', names: ['ed'] },
        { compareBefore: false },
      );
      const result = spawnSync('sh', ['-c', script.replaceAll('/usr/sbin/policy-rc.d', join(dir, 'policy-rc.d'))], {
        env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
      });
      const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
      rmSync(dir, { recursive: true });
      return { calls, status: result.status, stderr: result.stderr.toString() };
    }

    it('refresh the package lists once when an install fails, and try again', () => {
      expect(
        aptCalls([
          { code: 100, stderr: 'E: Unable to locate package ed' },
          { code: 0, stderr: '' },
        ]),
      ).toMatchObject({ calls: ['install', 'update', 'install'], status: 0 });
    });

    it('give up at once when another package operation holds the lock (apt already waited its lock timeout), saying so', () => {
      const held = aptCalls([
        {
          code: 100,
          stderr: 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)',
        },
      ]);
      expect(held).toMatchObject({ calls: ['install'], status: 100 });
      expect(held.stderr).toContain('It is held by process 4242');
    });
  });
});
