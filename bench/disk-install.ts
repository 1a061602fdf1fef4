import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { labInventory } from '../tests/integration/support/lab-harness.js';
import { runCli } from '../tests/integration/support/test-rack.js';

/** One machine's install as apply's events tell it. */
export interface DiskInstall {
  node: string;
  firmware: 'bios' | 'uefi';
  /** Power-cycle into PXE → the install agent's callback (image written, verified, configured). */
  installS: number;
  /** The callback → sshd answering on the installed system (power-off, firmware, GRUB, kernel, systemd). */
  bootS: number;
  /** Power-cycle → SSH. */
  totalS: number;
}

/**
 * Per round a fresh lab with two QEMU inventory machines, one with SeaBIOS and one with OVMF, installed side by
 * side by one `bootstrap apply` (base barclamp only) from powered-off, empty disks.
 */
export async function diskInstallRounds(rounds: number): Promise<DiskInstall[]> {
  const out: DiskInstall[] = [];
  for (let round = 0; round < rounds; round++) {
    const dir = mkdtempSync(join(tmpdir(), 'bootstrap-bench-install-'));
    const labDir = join(dir, 'lab');
    const stateDir = join(dir, 'state');
    const inventory = join(dir, 'inventory.yaml');
    const cli = (args: string[]) =>
      runCli(args, { cwd: dir, env: { BOOTSTRAP_STATE_DIR: stateDir }, timeoutMs: 1_800_000 });
    const machines = [
      { name: 'b1', mac: '52:54:00:79:50:11', host: 11, firmware: 'bios' as const },
      { name: 'u1', mac: '52:54:00:79:50:12', host: 12, firmware: 'uefi' as const },
    ];
    const spec = labInventory({
      deployment: 'tb',
      admin: '10.79.250',
      bmc: '10.79.251',
      labDir,
      nodes: machines.map((m) => ({ name: m.name, mac: m.mac, host: m.host, roles: ['plain'] })),
      roles: { plain: ['base/node'] },
    }) as { lab: Record<string, unknown> };
    spec.lab.machines = Object.fromEntries(machines.map((m) => [m.name, { kind: 'qemu', firmware: m.firmware }]));
    writeFileSync(inventory, stringify(spec));
    try {
      const up = await cli(['lab', 'up', inventory]);
      if (up.code !== 0) throw new Error(`lab up failed: ${up.stderr.slice(-2000)}`);
      const applied = await cli(['apply', inventory]);
      if (applied.code !== 0) throw new Error(`apply failed: ${applied.stdout.slice(-3000)}`);
      const run = readdirSync(join(stateDir, 'runs')).sort().at(-1)!;
      const events = readFileSync(join(stateDir, 'runs', run, 'events.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { time: string; type: string; node?: string; phase?: string });
      for (const m of machines) {
        const at = (match: (e: (typeof events)[number]) => boolean) => {
          const event = events.find((e) => e.node === m.name && match(e));
          if (!event) throw new Error(`no such event for ${m.name}`);
          return Date.parse(event.time);
        };
        const power = at((e) => e.type === 'provision.phase' && e.phase === 'power');
        const installed = at((e) => e.type === 'provision.phase' && e.phase === 'boot');
        const ssh = at((e) => e.type === 'provision.ok');
        out.push({
          node: m.name,
          firmware: m.firmware,
          installS: (installed - power) / 1000,
          bootS: (ssh - installed) / 1000,
          totalS: (ssh - power) / 1000,
        });
      }
    } finally {
      await cli(['lab', 'down', inventory]);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
