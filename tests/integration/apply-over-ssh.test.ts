import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, createTestRack, type TestRack } from './support/test-rack.js';

/**
 * The core engine against real machines: OpenSSH in container nodes that run real systemd and install
 * real Debian packages (through the rack's apt-cacher-ng). Needs root; .ci/run installs the packages.
 */
describe('plan and apply over SSH on real systemd nodes', () => {
  let rack: TestRack;
  let inventory: string;

  beforeAll(async () => {
    rack = await createTestRack('e1', 201, ['ctl1', 'cmp1']);
    inventory = rack.writeInventory(rack.baseInventory());
  });
  afterAll(async () => {
    await rack?.destroy();
  });

  const events = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
  const changedSteps = (stdout: string) =>
    events(stdout)
      .filter((e) => e.type === 'step.ok')
      .map((e) => `${e.node} ${e.summary}`)
      .sort();
  const mainPid = async (node: string) =>
    (await rack.exec(node, 'systemctl show -p MainPID --value chrony')).stdout.trim();

  it('first apply installs, writes and starts everything, and the nodes end up configured', async () => {
    const result = await rack.cli(['apply', inventory, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const done = events(result.stdout).find((e) => e.type === 'run.done')!;
    expect(done.status).toBe('ok');
    expect(done.changed).toBeGreaterThan(6);
    expect(rack.diskFile('cmp1', 'etc/chrony/chrony.conf')).toContain(`server ${rack.subnet}.11 iburst`);
    expect(rack.diskFile('ctl1', 'etc/chrony/chrony.conf')).toContain('local stratum 10');
    expect(rack.diskFile('ctl1', 'etc/hosts')).toMatch(new RegExp(`${rack.subnet}\\.12\\s+cmp1`));
    for (const node of ['ctl1', 'cmp1']) {
      expect((await rack.exec(node, 'systemctl is-active chrony')).stdout.trim()).toBe('active');
      expect((await rack.exec(node, "dpkg-query -W -f='${Status}' chrony")).stdout).toBe('install ok installed');
    }
  });

  it('a second plan shows zero changes and a second apply changes nothing', async () => {
    const plan = await rack.cli(['plan', inventory, '--json']);
    expect(plan.code).toBe(0);
    const parsed = JSON.parse(plan.stdout);
    expect(parsed.summary).toMatchObject({ create: 0, update: 0, run: 0 });
    const before = await mainPid('ctl1');
    const apply = await rack.cli(['apply', inventory, '--json']);
    expect(apply.code).toBe(0);
    expect(changedSteps(apply.stdout)).toEqual([]);
    expect(await mainPid('ctl1')).toBe(before);
  });

  it('every apply records what each node runs, package by package: bom shows the exact versions, and nothing changed between the two applies', async () => {
    const bom = await rack.cli(['bom', inventory, '--json']);
    expect(bom.code, bom.stderr).toBe(0);
    const bill = JSON.parse(bom.stdout) as {
      schema: string;
      runId: string;
      nodes: Record<string, Record<string, string>>;
    };
    expect(bill.schema).toBe('bootstrap-bom/1');
    expect(Object.keys(bill.nodes).sort()).toEqual(rack.nodes.map((n) => n.name).sort());
    const chrony = await rack.exec('ctl1', "dpkg-query -W -f '${Version}' chrony");
    expect(bill.nodes.ctl1!.chrony).toBe(chrony.stdout.trim());
    const applies = readdirSync(join(rack.stateDir, 'runs'))
      .filter((id) => existsSync(join(rack.stateDir, 'runs', id, 'bom.json')))
      .sort();
    expect(applies.length).toBeGreaterThanOrEqual(2);
    const diff = await rack.cli(['bom', inventory, '--diff', `${applies.at(-2)},${applies.at(-1)}`]);
    expect(diff.stdout).toMatch(/^0 package change\(s\) from /);
  });

  it('an inventory that pins the recorded bill holds apt to its versions; a version the mirror no longer has stops apply as BOM-VERSION-UNAVAILABLE, naming the package', async () => {
    const bom = await rack.cli(['bom', inventory, '--json']);
    const bill = JSON.parse(bom.stdout) as { nodes: Record<string, Record<string, string>> };
    const chrony = bill.nodes.ctl1!.chrony!;
    writeFileSync(join(rack.stateDir, 'known-good.json'), bom.stdout);
    const pinned = rack.baseInventory();
    pinned.bom = { pin: join(rack.stateDir, 'known-good.json') };
    const same = await rack.cli(['apply', rack.writeInventory(pinned), '--json']);
    expect(same.code, same.stdout.slice(-2000)).toBe(0);
    expect(rack.diskFile('ctl1', 'etc/apt/preferences.d/bootstrap-bom')).toContain(
      `Package: chrony\nPin: version ${chrony}\nPin-Priority: 1001\n`,
    );
    expect((await rack.exec('ctl1', 'apt-cache policy chrony')).stdout).toContain(`Candidate: ${chrony}`);
    // the mirror never had this one: no silent upgrade or downgrade, a failure that names the package
    for (const node of Object.keys(bill.nodes)) bill.nodes[node]!.chrony = '9:9.9-1';
    writeFileSync(join(rack.stateDir, 'gone.json'), JSON.stringify({ format: 'bootstrap-bom/1', nodes: bill.nodes }));
    pinned.bom = { pin: join(rack.stateDir, 'gone.json') };
    const gone = await rack.cli(['apply', rack.writeInventory(pinned), '--json']);
    expect(gone.code).toBe(1);
    const failure = events(gone.stdout).find((e) => e.type === 'failure.recorded')?.record as
      | { gene: string; evidence: { stderrTail?: string } }
      | undefined;
    expect(failure?.gene).toBe('BOM-VERSION-UNAVAILABLE');
    expect(failure?.evidence.stderrTail).toMatch(
      new RegExp(
        `package chrony: version 9:9\\.9-1 is pinned by the bill of materials .*offers: ${chrony.replace(/[.+]/g, '\\$&')}`,
      ),
    );
    expect((await rack.exec('ctl1', "dpkg-query -W -f '${Version}' chrony")).stdout).toBe(chrony);
    // back to no pins, converged, for the specs that follow
    inventory = rack.writeInventory(rack.baseInventory());
    expect((await rack.cli(['apply', inventory])).code).toBe(0);
  });

  it('a changed attribute rewrites exactly one file and restarts exactly its service, on that node only', async () => {
    const doc = rack.baseInventory();
    doc.nodes[1].attributes = { ntp: { makestep: '0.5 5' } };
    inventory = rack.writeInventory(doc);
    const human = await rack.cli(['plan', inventory]);
    expect(human.stdout).toContain('~ ntp/client write /etc/chrony/chrony.conf (content)');
    expect(human.stdout).toContain('-makestep 1.0 3');
    expect(human.stdout).toContain('+makestep 0.5 5');
    const ctlBefore = await mainPid('ctl1');
    const cmpBefore = await mainPid('cmp1');
    const apply = await rack.cli(['apply', inventory, '--json']);
    expect(apply.code).toBe(0);
    expect(changedSteps(apply.stdout)).toEqual(['cmp1 restart chrony', 'cmp1 write /etc/chrony/chrony.conf']);
    expect(await mainPid('ctl1')).toBe(ctlBefore);
    expect(await mainPid('cmp1')).not.toBe(cmpBefore);
    expect(rack.diskFile('cmp1', 'etc/chrony/chrony.conf')).toContain('makestep 0.5 5');
  });

  it('verify runs every check once and changes nothing: a stopped daemon is reported with its gene and stays stopped until apply', async () => {
    const healthy = await rack.cli(['verify', inventory, '--json']);
    expect(healthy.code, healthy.stdout).toBe(0);
    expect(
      events(healthy.stdout)
        .filter((e) => e.type === 'check.ok')
        .map((e) => `${e.node} ${e.check}`)
        .sort(),
    ).toEqual([
      'cmp1 base/node:check:hosts-resolve',
      'cmp1 base/node:check:ssh-reachable',
      'cmp1 ntp/client:check:chronyd-answers',
      'ctl1 base/node:check:hosts-resolve',
      'ctl1 base/node:check:ssh-reachable',
      'ctl1 ntp/server:check:chronyd-answers',
    ]);
    await rack.exec('cmp1', 'systemctl stop chrony');
    const broken = await rack.cli(['verify', inventory]);
    expect(broken.code).toBe(1);
    const runs = readdirSync(join(rack.stateDir, 'runs')).sort();
    const records = readFileSync(join(rack.stateDir, 'runs', runs.at(-1)!, 'failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.map((r) => `${r.node} ${r.step}`)).toEqual(['cmp1 ntp/client:check:chronyd-answers']);
    expect(broken.stdout).toContain(`what to do: ${records[0].mitigation}`);
    // read-only: the daemon it found stopped is still stopped
    expect((await rack.exec('cmp1', 'systemctl is-active chrony || true')).stdout.trim()).toBe('inactive');
    const repaired = await rack.cli(['apply', inventory, '--json']);
    expect(changedSteps(repaired.stdout)).toEqual(['cmp1 service chrony']);
    expect((await rack.cli(['verify', inventory])).code).toBe(0);
  });

  it('a failing command on one node stops that node only, and the failure is classified', async () => {
    const doc = rack.baseInventory();
    doc.barclamp_paths = [join(REPO, 'tests/fixtures/barclamps')];
    doc.roles.controller.push('canary/probe');
    doc.roles.compute.push('canary/probe');
    doc.attributes.canary = { fail_on: ['cmp1'] };
    inventory = rack.writeInventory(doc);
    const result = await rack.cli(['apply', inventory]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('CMD-FAILED');
    expect(result.stdout).toContain('what to do:');
    expect(rack.diskFile('ctl1', 'etc/canary-done')).toBe('done on ctl1\n');
    expect(rack.diskFile('cmp1', 'etc/canary-done')).toBeUndefined();
    const runs = readdirSync(join(rack.stateDir, 'runs')).sort();
    const records = readFileSync(join(rack.stateDir, 'runs', runs.at(-1)!, 'failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      node: 'cmp1',
      gene: 'CMD-FAILED',
      barclamp: 'canary',
      role: 'probe',
      evidence: { exitCode: 3 },
    });
    expect(records[0].evidence.stderrTail).toContain('canary on cmp1');
  });

  it('attribute values that are shell syntax are applied literally through plan, apply and verify: the node holds exactly those characters, nothing else ran', async () => {
    const payloads = [
      `it's`,
      '$(touch /etc/pwned)',
      '`touch /etc/pwned`',
      'a; touch /etc/pwned',
      '" && touch /etc/pwned && "',
      "' || touch /etc/pwned || '",
      '$HOME *',
    ];
    for (const value of payloads) {
      const doc = rack.baseInventory();
      doc.barclamp_paths = [join(REPO, 'tests/fixtures/barclamps')];
      doc.roles.compute.push('literal/keeper');
      doc.attributes.literal = { value };
      inventory = rack.writeInventory(doc);
      expect((await rack.cli(['plan', inventory])).code, value).toBe(0);
      const applied = await rack.cli(['apply', inventory, '--limit', 'cmp1']);
      expect(applied.code, `${value}\n${applied.stdout}`).toBe(0);
      expect(rack.diskFile('cmp1', 'etc/literal.value')).toBe(value);
      expect((await rack.cli(['verify', inventory, '--limit', 'cmp1'])).code, value).toBe(0);
    }
    for (const node of rack.nodes) expect(rack.diskFile(node.name, 'etc/pwned'), node.name).toBeUndefined();
    const newline = rack.baseInventory();
    newline.barclamp_paths = [join(REPO, 'tests/fixtures/barclamps')];
    newline.roles.compute.push('literal/keeper');
    newline.attributes.literal = { value: 'one\ntouch /etc/pwned' };
    const refused = await rack.cli(['plan', rack.writeInventory(newline)]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/literal\.value: .*contains a control character \(U\+000A\)/);
  });

  it('a step past its deadline is a TIME-STEP-DEADLINE failure, and nothing it started keeps running on the node', async () => {
    const doc = rack.baseInventory();
    doc.barclamp_paths = [join(REPO, 'tests/fixtures/barclamps')];
    doc.roles.compute.push('canary/sleeper');
    const result = await rack.cli(['apply', rack.writeInventory(doc), '--limit', 'cmp1']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('TIME-STEP-DEADLINE');
    // the node-side deadline (2 s after ours, then KILL after 5 s) ends the script's whole process group
    let left = '';
    for (let i = 0; i < 20; i++) {
      left = (await rack.exec('cmp1', 'pgrep -fa "sleep 60[01]" || true')).stdout.trim();
      if (left === '') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(left).toBe('');
  });

  it('Ctrl-C lets the running step finish, starts nothing new, releases the lock, and a re-run converges', async () => {
    const doc = rack.baseInventory();
    doc.barclamp_paths = [join(REPO, 'tests/fixtures/barclamps')];
    doc.roles.controller.push('canary/probe');
    doc.roles.compute.push('canary/probe');
    doc.attributes.canary = { delay: 2 };
    inventory = rack.writeInventory(doc);
    await rack.exec('ctl1', 'rm -f /etc/canary-done');
    await rack.exec('cmp1', 'rm -f /etc/canary-done');
    const child = spawn(
      'node',
      [join(REPO, 'bin/bootstrap.js'), 'apply', inventory, '--json', '--state-dir', rack.stateDir],
      { cwd: rack.dir },
    );
    let output = '';
    const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"summary":"run maybe-fail"') && !child.killed) child.kill('SIGINT');
    });
    expect(await exit).toBe(130);
    const seen = events(output);
    expect(seen.filter((e) => e.type === 'step.ok' && e.summary === 'run maybe-fail').length).toBeGreaterThan(0);
    expect(seen.some((e) => e.type === 'step.start' && e.summary === 'write /etc/canary-done')).toBe(false);
    expect(seen.at(-1)).toMatchObject({ type: 'run.done', status: 'interrupted' });
    expect(existsSync(join(rack.stateDir, 'apply.lock'))).toBe(false);
    const rerun = await rack.cli(['apply', inventory, '--json']);
    expect(rerun.code).toBe(0);
    expect(changedSteps(rerun.stdout)).toEqual(
      expect.arrayContaining(['cmp1 write /etc/canary-done', 'ctl1 write /etc/canary-done']),
    );
    const settled = await rack.cli(['apply', inventory, '--json']);
    expect(changedSteps(settled.stdout)).toEqual([]);
  });

  it('apply --plan executes a saved plan, and refuses it when the node or the inputs changed since', async () => {
    inventory = rack.writeInventory(rack.baseInventory());
    expect((await rack.cli(['apply', inventory])).code).toBe(0);
    await rack.exec('cmp1', 'echo "# local edit" >> /etc/motd');
    const planFile = `${rack.dir}/plan.json`;
    expect((await rack.cli(['plan', inventory, '--out', planFile])).code).toBe(0);
    const saved = await rack.cli(['apply', inventory, '--plan', planFile, '--json']);
    expect(saved.code).toBe(0);
    expect(changedSteps(saved.stdout)).toEqual(['cmp1 write /etc/motd']);

    await rack.exec('cmp1', 'echo "# local edit" >> /etc/motd');
    expect((await rack.cli(['plan', inventory, '--out', planFile])).code).toBe(0);
    await rack.exec('cmp1', 'echo "# another edit after the plan" >> /etc/motd');
    const drifted = await rack.cli(['apply', inventory, '--plan', planFile]);
    expect(drifted.code).toBe(1);
    expect(drifted.stdout).toContain('CFG-DRIFT-SINCE-PLAN');
    expect(rack.diskFile('cmp1', 'etc/motd')).toContain('another edit after the plan');

    // edited by hand to carry a command of its own (and to install a package): refused, nothing runs
    const edited = JSON.parse(readFileSync(planFile, 'utf8')) as {
      nodes: { name: string; steps: Record<string, unknown>[] }[];
    };
    const cmp1 = edited.nodes.find((n) => n.name === 'cmp1')!;
    cmp1.steps.push({
      ...cmp1.steps[0],
      id: 'base/node:command:evil',
      kind: 'command',
      action: 'run',
      summary: 'run evil',
      digest: 'x',
    });
    writeFileSync(planFile, JSON.stringify(edited));
    const foreign = await rack.cli(['apply', inventory, '--plan', planFile]);
    expect(foreign.code, foreign.stdout).toBe(2);
    expect(foreign.stderr).toContain('[plan.foreign-step]');
    expect(foreign.stderr).toContain(
      'node cmp1, step "base/node:command:evil": no such step is derived from the inputs',
    );

    const doc = rack.baseInventory();
    doc.attributes.base.motd = 'changed after planning';
    const stale = await rack.cli(['apply', rack.writeInventory(doc), '--plan', planFile]);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain('[plan.stale]');
    expect((await rack.cli(['apply', rack.writeInventory(rack.baseInventory())])).code).toBe(0);
  });

  it('a changed host key is refused until the operator forgets the old one', async () => {
    inventory = rack.writeInventory(rack.baseInventory());
    const node = rack.nodes[0]!;
    await rack.exec('ctl1', 'rm -f /etc/ssh/ssh_host_*');
    await rack.restart('ctl1');
    const refused = await rack.cli(['apply', inventory]);
    expect(refused.code, refused.stdout).toBe(1);
    expect(refused.stdout).toContain('SSH-HOSTKEY-CHANGED');
    expect(refused.stdout).toContain('bootstrap hostkey forget');
    const forget = await rack.cli(['hostkey', 'forget', inventory, 'ctl1']);
    expect(forget.code).toBe(0);
    expect(forget.stdout).toContain(`${node.address}:22`);
    const accepted = await rack.cli(['apply', inventory]);
    expect(accepted.code, accepted.stdout).toBe(0);
    // a rebooted node plus two applies: give a loaded CI machine room (it once took more than 120 s)
  }, 300_000);
});
