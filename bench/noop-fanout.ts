import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../src/util/exec.js';
import { createTestRack, REPO, runCli, type TestRack } from '../tests/integration/support/test-rack.js';

export const FANOUT_SIZES = [3, 10, 30];

/**
 * The same desired state (bench/barclamps/fanout = bench/ansible/fanout.yml: a package, two templated files,
 * a running service, a check) on N real container nodes (systemd + sshd), applied by bootstrap and by
 * ansible-playbook (forks = N, SSH pipelining and ControlPersist on, as Ansible users run it).
 */
export interface FanoutRack {
  rack: TestRack;
  /** bootstrap inventory and Ansible inventory + config for the first n nodes. */
  files(n: number): { inventory: string; ansibleInventory: string; ansibleConfig: string };
  destroy(): Promise<void>;
}

export async function createFanoutRack(): Promise<FanoutRack> {
  const names = Array.from({ length: Math.max(...FANOUT_SIZES) }, (_, i) => `n${String(i + 1).padStart(2, '0')}`);
  const rack = await createTestRack('fo', 215, names, { sshWaitMs: 300_000 });
  const files = (n: number) => {
    const nodes = rack.nodes.slice(0, n);
    const doc = rack.baseInventory();
    doc.deployment = `bench-fanout-${n}`;
    doc.barclamp_paths = [join(REPO, 'bench/barclamps')];
    doc.nodes = nodes.map((node) => ({ name: node.name, addresses: { admin: node.address }, roles: ['node'] }));
    doc.roles = { node: ['fanout/node'] };
    delete doc.attributes.ntp;
    delete doc.attributes.base;
    const inventory = join(rack.dir, `fanout-${n}.yaml`);
    writeFileSync(inventory, JSON.stringify(doc));
    const ansibleInventory = join(rack.dir, `ansible-${n}.ini`);
    writeFileSync(
      ansibleInventory,
      `[all]\n${nodes.map((node) => `${node.name} ansible_host=${node.address} ansible_user=root ansible_ssh_private_key_file=${rack.keyFile}`).join('\n')}\n`,
    );
    const ansibleConfig = join(rack.dir, `ansible-${n}.cfg`);
    writeFileSync(
      ansibleConfig,
      `[defaults]\nforks = ${n}\ninterpreter_python = /usr/bin/python3\nretry_files_enabled = False\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${join(rack.dir, 'ansible_known_hosts')} -o StrictHostKeyChecking=accept-new\n`,
    );
    return { inventory, ansibleInventory, ansibleConfig };
  };
  // the nodes get their apt proxy (the rack's package cache) from the base barclamp once, and python3-apt for
  // Ansible's apt module, outside the measurement (30 nodes refreshing their lists at once through one cache once
  // left an apt-get update hanging for good)
  const setup = rack.baseInventory();
  setup.deployment = 'bench-fanout-setup';
  setup.nodes = rack.nodes.map((node) => ({ name: node.name, addresses: { admin: node.address }, roles: ['node'] }));
  setup.barclamp_paths = [join(REPO, 'bench/barclamps')];
  setup.roles = { node: ['base/node', 'fanout/ansible-prerequisites'] };
  const setupFile = join(rack.dir, 'setup.yaml');
  writeFileSync(setupFile, JSON.stringify(setup));
  const prepared = await runCli(
    ['apply', setupFile, '--parallel', '30', '--state-dir', join(rack.dir, 'state-setup')],
    { cwd: rack.dir, timeoutMs: 1_800_000 },
  );
  if (prepared.code !== 0) throw new Error(`setup apply failed: ${prepared.stdout.slice(-2000)}`);
  return { rack, files, destroy: () => rack.destroy() };
}

/** bootstrap apply on the first n nodes, n at a time; returns what it changed. */
export async function bootstrapApply(f: FanoutRack, n: number): Promise<{ changed: number }> {
  const { inventory } = f.files(n);
  const out = await runCli(
    ['apply', inventory, '--json', '--parallel', String(n), '--state-dir', join(f.rack.dir, `state-${n}`)],
    { cwd: f.rack.dir, timeoutMs: 1_800_000 },
  );
  const done = out.stdout
    .split('\n')
    .filter((l) => l.includes('"run.done"'))
    .map((l) => JSON.parse(l) as { status: string; changed: number })[0];
  if (out.code !== 0 || !done) throw new Error(`bootstrap apply on ${n} nodes failed: ${out.stdout.slice(-2000)}`);
  return { changed: done.changed };
}

/** ansible-playbook of the equivalent play on the first n nodes; returns what it changed. */
export async function ansiblePlaybook(f: FanoutRack, n: number): Promise<{ changed: number }> {
  const { ansibleInventory, ansibleConfig } = f.files(n);
  const out = await runCommand('ansible-playbook', ['-i', ansibleInventory, join(REPO, 'bench/ansible/fanout.yml')], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: f.rack.dir, ANSIBLE_CONFIG: ansibleConfig },
    timeoutMs: 1_800_000,
  });
  if (out.code !== 0) throw new Error(`ansible-playbook on ${n} nodes failed: ${out.stdout.slice(-2000)}`);
  const changed = [...out.stdout.matchAll(/changed=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  return { changed };
}
