import { bmcDriverOf, ipmiToolFor } from '../../engine/bmc-access.js';
import { cloudHealth, type NodeHealth } from '../../engine/cloud-health.js';
import { machineStoreOf } from '../../engine/provision-phase.js';
import { IpmiError } from '../../ipmi/ipmi-error.js';
import { portOpen } from '../../util/tcp-probe.js';
import type { ParsedArgs } from '../args.js';
import { EXIT, type CommandIO } from '../io.js';
import { deploymentFor } from './inventory-arg.js';

interface NodeStatusRow {
  node: string;
  state: string;
  power: string;
  address: string;
  bmc: string;
  ssh: boolean;
  lastSeen?: string;
  lastFailure?: string;
  /** The cloud's own view of the node (the barclamps' health checks, asked now). */
  health: NodeHealth;
}

/** `bootstrap status [INVENTORY]`: every node's life-cycle state, power (asked of its BMC), addresses, the cloud's health, last failure. */
export async function statusCommand(args: ParsedArgs, io: CommandIO): Promise<number> {
  const deployment = deploymentFor(args, io, args.positionals[0]);
  const store = machineStoreOf(deployment, io.env);
  const tool = ipmiToolFor(io.env);
  const health = cloudHealth(io.env, deployment, { parallel: 4, signal: io.kill });
  const rows: NodeStatusRow[] = await Promise.all(
    deployment.inventory.nodes.map(async (node): Promise<NodeStatusRow> => {
      const record = store.get(node.name);
      let power = 'no BMC';
      const driver = bmcDriverOf(tool, deployment.inventory, node, io.env);
      if (driver) {
        try {
          power = await driver.powerState();
        } catch (error) {
          if (!(error instanceof IpmiError)) throw error;
          power = `? (${error.kind})`;
        }
      }
      const seen = store.sightings(node.name).at(-1);
      return {
        node: node.name,
        state: record?.state ?? 'unknown',
        power,
        address: node.ssh.address,
        bmc: node.bmc?.address ?? '-',
        ssh: await portOpen(node.ssh.address, node.ssh.port),
        ...(seen ? { lastSeen: `${seen.at} ${seen.what}: ${seen.detail}` } : {}),
        ...(record?.lastFailure ? { lastFailure: `[${record.lastFailure.gene}] ${record.lastFailure.message}` } : {}),
        health: (await health).get(node.name)!,
      };
    }),
  );
  const known = new Set(deployment.inventory.nodes.map((n) => n.name));
  const enlisted = store
    .all()
    .filter((m) => !known.has(m.id))
    .map((m) => ({
      id: m.id,
      state: m.state,
      macs: m.macs,
      serial: m.hardware?.dmi.serial ?? '',
      memoryMiB: m.hardware?.memoryMiB ?? 0,
      cpus: m.hardware?.cpu.count ?? 0,
    }));
  if (args.flags.has('json')) {
    io.stdout.write(
      `${JSON.stringify({ schema: 'bootstrap-status/1', deployment: deployment.inventory.deployment, nodes: rows, enlisted })}\n`,
    );
    return EXIT.ok;
  }
  const lines = [
    `${deployment.inventory.deployment}: ${rows.length} node(s)`,
    `  ${'node'.padEnd(10)} ${'state'.padEnd(15)} ${'power'.padEnd(8)} ${'admin'.padEnd(15)} ${'bmc'.padEnd(15)} ${'ssh'.padEnd(4)} health`,
  ];
  for (const r of rows) {
    const healthText =
      r.health.state === 'unhealthy'
        ? `✗ ${[...new Set(r.health.findings.map((f) => f.gene))].join(', ')}`
        : r.health.state === 'unknown'
          ? '?'
          : r.health.state;
    lines.push(
      `  ${r.node.padEnd(10)} ${r.state.padEnd(15)} ${r.power.padEnd(8)} ${r.address.padEnd(15)} ${r.bmc.padEnd(15)} ${(r.ssh ? 'yes' : '-').padEnd(4)} ${healthText}`,
    );
    for (const f of r.health.findings) lines.push(`      ${f.problem}`);
    if (r.lastFailure) lines.push(`      last failure: ${r.lastFailure}`);
    if (r.lastSeen && r.state !== 'deployed') lines.push(`      last seen: ${r.lastSeen}`);
  }
  if (enlisted.length > 0) {
    lines.push(`machines not in the inventory (PXE-booted on their own): ${enlisted.length}`);
    for (const m of enlisted)
      lines.push(
        `  ${m.id.padEnd(22)} ${m.state.padEnd(12)} ${m.macs.join(',')} serial ${m.serial || '?'}, ${m.cpus} CPU, ${m.memoryMiB} MiB`,
      );
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
