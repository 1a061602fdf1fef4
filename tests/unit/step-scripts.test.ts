import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stepScript } from '../../src/apply/step-scripts.js';
import type { DesiredResource } from '../../src/plan/desired-types.js';
import type { PlanStep } from '../../src/plan/plan-types.js';

const step = (kind: PlanStep['kind'], extra: Partial<PlanStep> = {}): PlanStep => ({ id: 'b/r:x', node: 'n', batch: 0, barclamp: 'b', role: 'r', kind, action: 'run', summary: '', changes: [], digest: '', ...extra });
const command = (run: string, notify: string[]): DesiredResource => ({ type: 'command', id: 'b/r:command:c', name: 'c', run, timeoutSeconds: 60, retries: 0, notify, sensitive: false });

describe('remote step scripts', () => {
  it('a failing command fails its step with its own exit code, and owes no restart', () => {
    const script = stepScript(step('command'), command('echo doing; exit 3', ['svc']), { compareBefore: false });
    const result = spawnSync('sh', ['-c', script.replace(/mkdir -p \/var\/lib\/bootstrap[^\n]*/, 'echo MARKED')]);
    expect(result.status).toBe(3);
    expect(result.stdout.toString()).toBe('doing\n');
  });

  it('a successful command that notifies a service marks the restart as owed, durably, on the node', () => {
    const script = stepScript(step('command'), command('true', ['keystone']), { compareBefore: false });
    expect(execFileSync('sh', ['-c', script.replace(/mkdir -p \/var\/lib\/bootstrap[^\n]*/, 'echo MARKED')]).toString()).toBe('MARKED\n');
    expect(script).toMatch(/touch '?\/var\/lib\/bootstrap\/restart-pending\/keystone'? && sync$/);
  });

  it('a written systemd unit is followed by daemon-reload; a restart clears what it owed', () => {
    const unit: DesiredResource = { type: 'file', id: 'b/r:file:/etc/systemd/system/x.service', path: '/etc/systemd/system/x.service', content: '[Unit]\n', mode: '0644', owner: 'root', group: 'root', notify: ['x'], sensitive: false };
    expect(stepScript(step('file', { after: { sha256: 'x', mode: '0644', owner: 'root', group: 'root' } }), unit, { compareBefore: false })).toMatch(/systemctl daemon-reload[\s\S]*restart-pending\/x/);
    const handler = stepScript(step('handler', { service: 'x' }), undefined, { compareBefore: false });
    expect(handler).toMatch(/^systemctl restart '?x'? \|\|[\s\S]*\nrm -f -- '?\/var\/lib\/bootstrap\/restart-pending\/x'?$/);
  });
});
