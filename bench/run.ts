import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compare, environment, median, type SideResult } from './measure.js';
import type { PlanningResult } from './planning.js';
import { bootstrapDiscover, createSweepRack, freeIpmiBmcInfo, ipmitoolLoop } from './bmc-sweep.js';
import { ansiblePlaybook, bootstrapApply, createFanoutRack, FANOUT_SIZES } from './noop-fanout.js';
import { measureDashboard, type DashboardMeasure } from './dashboard.js';
import { referenceDeploy } from './reference-deploy.js';
import { cloudWorks } from './cloud-works.js';
import { recoveryRounds } from './recovery.js';
import { diskInstallRounds } from './disk-install.js';

const REPO = join(import.meta.dirname, '../..');
const run = promisify(execFile);

/**
 * `npm run bench`: every benchmark, side by side in one run, then bench/results/<name>.{md,json} and latest.md.
 * Options: --rounds N (default 3), --only NAME.
 */
interface Section {
  name: string;
  title: string;
  markdown: string;
  data: unknown;
  /** How it was run, when not `rounds` rounds with the sides alternated. */
  method?: string;
}

async function planningSection(rounds: number): Promise<Section> {
  const sizes = [100, 1000, 10_000];
  const last = new Map<number, PlanningResult>();
  const results = await compare(
    sizes.map((nodes) => ({
      name: `${nodes} nodes`,
      run: async () => {
        const { stdout } = await run(
          'node',
          ['--max-old-space-size=8192', join(import.meta.dirname, 'planning-child.js'), String(nodes)],
          { maxBuffer: 1 << 20 },
        );
        const result = JSON.parse(stdout) as PlanningResult;
        last.set(nodes, result);
        return { steps: result.steps, changes: result.changes, peakRssMiB: Math.round(result.peakRssMiB) };
      },
    })),
    rounds,
  );
  const rows = results.map((r, i) => {
    const detail = last.get(sizes[i]!)!;
    const previous = i > 0 ? results[i - 1]! : undefined;
    const ratio = previous ? `${(r.medianMs / previous.medianMs).toFixed(1)}× for 10× nodes` : '—';
    return `| ${sizes[i]!.toLocaleString('en')} | ${seconds(r)} | ${ms(detail.validateMs)} / ${ms(detail.renderMs)} / ${ms(detail.planMs)} | ${detail.steps.toLocaleString('en')} | ${detail.changes} | ${Math.round(detail.peakRssMiB)} MiB | ${ratio} |`;
  });
  const markdown = [
    "Full reference barclamp set; 1 controller, 15 computes in the pacemaker/masakari ring (its limit), plain computes for the rest. Facts: a converged rack (derived from the desired state — no SSH), so the plan is the no-op re-apply plan; deriving them is not in the plan column, it is in the wall (the whole process). Each size in its own process (peak RSS is that size's). Target: 1,000 nodes in ≤ 2 s and ≤ 300 MB; cost linear in nodes.",
    '',
    '| nodes | wall (median, min–max) | validate / render / plan (last run) | planned steps | changes | peak RSS | scaling |',
    '|---:|---|---|---:|---:|---:|---|',
    ...rows,
  ].join('\n');
  return {
    name: 'planning',
    title: 'Planning at scale',
    markdown,
    data: results.map((r, i) => ({ ...r, phases: last.get(sizes[i]!) })),
  };
}

/** The sequential loop is measured over this many addresses and scaled to the /24 (it would take minutes per round). */
const LOOP_SLICE = 32;

async function sweepSection(rounds: number): Promise<Section> {
  if ((await run('sh', ['-c', 'command -v bmc-info || true'])).stdout.trim() === '')
    await run('apt-get', ['install', '-y', '-q', 'freeipmi-tools']);
  const rack = await createSweepRack();
  try {
    let round = 0;
    const results = await compare(
      [
        { name: 'bootstrap discover', run: () => bootstrapDiscover(rack, round++) },
        { name: 'FreeIPMI bmc-info, defaults', run: () => freeIpmiBmcInfo(rack, false) },
        {
          name: 'FreeIPMI bmc-info, tuned (-F 256, 2 s session, 0.5 s retransmit)',
          run: () => freeIpmiBmcInfo(rack, true),
        },
        { name: `ipmitool loop (${LOOP_SLICE} addresses, scaled to 254)`, run: () => ipmitoolLoop(rack, LOOP_SLICE) },
      ],
      rounds,
    );
    const loop = results[3]!;
    for (const key of ['medianMs', 'minMs', 'maxMs'] as const) loop[key] = (loop[key] * 254) / LOOP_SLICE;
    const ours = results[0]!.medianMs;
    const rows = results.map(
      (r) =>
        `| ${r.name} | ${seconds(r)} | ${r.details.found ?? '?'} | ${r.details.identified ?? '?'} | ${r === results[0] ? '1×' : `${(r.medianMs / ours).toFixed(1)}× slower`} |`,
    );
    const markdown = [
      `${rack.bmcs.length} live ipmi_sim BMCs scattered over ${'10.79.213.0/24'} (the rest dead), each with its own user and password; the inventory gives the last one a wrong password. bootstrap discover = UDP sweep of the /24 + authenticated reads (mc info, FRU, LAN, GUID, power) of every BMC with its own credentials, as the CLI runs it. FreeIPMI and the loop get one credential set (the first BMC's), as they take one. Target: ≤ 2 s wall; ≥ 40× FreeIPMI defaults; faster than FreeIPMI tuned; ≥ 200× the loop.`,
      '',
      '| side | wall for the /24 (median, min–max) | BMCs that answered | BMCs identified | vs bootstrap |',
      '|---|---|---:|---:|---|',
      ...rows,
    ].join('\n');
    return { name: 'sweep', title: 'BMC sweep + identify', markdown, data: results };
  } finally {
    await rack.destroy();
  }
}

async function fanoutSection(rounds: number): Promise<Section> {
  if ((await run('sh', ['-c', 'command -v ansible-playbook || true'])).stdout.trim() === '')
    await run('apt-get', ['install', '-y', '-q', 'ansible-core'], { maxBuffer: 1 << 24 });
  const fanout = await createFanoutRack();
  try {
    const largest = Math.max(...FANOUT_SIZES);
    // the first, changing run of each side on fresh nodes (bootstrap's installs chrony; Ansible's then finds it)
    const firstStarted = performance.now();
    const first = await bootstrapApply(fanout, largest);
    const firstMs = performance.now() - firstStarted;
    const ansibleStarted = performance.now();
    const ansibleFirst = await ansiblePlaybook(fanout, largest);
    const ansibleFirstMs = performance.now() - ansibleStarted;
    const rows: string[] = [];
    const data: unknown[] = [];
    let previous: SideResult | undefined;
    for (const n of FANOUT_SIZES) {
      const results = await compare(
        [
          { name: `bootstrap apply (no-op), ${n} nodes`, run: () => bootstrapApply(fanout, n) },
          { name: `ansible-playbook (no-op), ${n} nodes`, run: () => ansiblePlaybook(fanout, n) },
        ],
        rounds,
      );
      const [ours, theirs] = results as [SideResult, SideResult];
      const growth = previous
        ? `${(ours.medianMs / previous.medianMs).toFixed(2)}× for ${(n / Number(previous.details.nodes)).toFixed(1)}× nodes`
        : '—';
      ours.details.nodes = n;
      rows.push(
        `| ${n} | ${seconds(ours)} | ${seconds(theirs)} | ${(theirs.medianMs / ours.medianMs).toFixed(1)}× | ${ours.details.changed} / ${theirs.details.changed} | ${growth} |`,
      );
      data.push({ nodes: n, results });
      previous = ours;
    }
    const markdown = [
      `The same desired state on N real container nodes (systemd + sshd, Debian packages): bench/barclamps/fanout = bench/ansible/fanout.yml — chrony installed, /etc/fanout, two templated files, chrony enabled and running, a command check. bootstrap apply --parallel N vs ansible-playbook with forks = N, pipelining and ControlPersist on. Both are no-op runs (nothing changes). Target: ≥ 5× faster than Ansible at N = 30, wall time growing clearly sublinearly with N. First (changing) run on ${largest} fresh nodes: bootstrap ${(firstMs / 1000).toFixed(1)} s (${first.changed} changes); Ansible after it ${(ansibleFirstMs / 1000).toFixed(1)} s (${ansibleFirst.changed} changes). python3-apt, which Ansible's apt module needs, is installed beforehand.`,
      '',
      '| nodes | bootstrap (median, min–max) | Ansible (median, min–max) | Ansible / bootstrap | changes (bootstrap / Ansible) | bootstrap growth |',
      '|---:|---|---|---:|---|---|',
      ...rows,
    ].join('\n');
    return {
      name: 'fanout',
      title: 'No-op re-apply fan-out',
      markdown,
      data: { firstMs, ansibleFirstMs, sizes: data },
    };
  } finally {
    await fanout.destroy();
  }
}

async function dashboardSection(rounds: number): Promise<Section> {
  const sizes = [100, 1000, 10_000];
  const measured = new Map<number, DashboardMeasure[]>(sizes.map((n) => [n, []]));
  // sizes alternate round by round, like the sides of a comparison
  for (let round = 0; round < rounds; round++) for (const n of sizes) measured.get(n)!.push(await measureDashboard(n));
  const rows = sizes.map((n, i) => {
    const m = measured.get(n)!;
    const first = median(m.map((x) => x.firstViewMs));
    const growth =
      i === 0
        ? '—'
        : `${(first / median(measured.get(sizes[i - 1]!)!.map((x) => x.firstViewMs))).toFixed(1)}× for 10× nodes`;
    return `| ${n.toLocaleString('en')} | ${ms(median(m.map((x) => x.viewMs)))} | ${(median(m.map((x) => x.viewBytes)) / 1024).toFixed(0)} KiB | ${ms(first)} (${ms(Math.min(...m.map((x) => x.firstViewMs)))}–${ms(Math.max(...m.map((x) => x.firstViewMs)))}) | ${ms(median(m.map((x) => x.updateMs)))} | ${growth} |`;
  });
  const markdown = [
    "The dashboard on synthetic state: every node provisioned, gathered and through 12 steps in each of the 5 runs it draws, one node in a hundred failing. View = what the server computes per tick; one update = the whole view as one Server-Sent Event; first view = navigation until the first page of rows (50) and the five timelines are drawn in headless Chromium; a change = a node's state changing until its row shows it (one 100 ms tick included).",
    '',
    '| nodes | view built | one update | first view in Chromium (median, min–max) | a change shown | first view growth |',
    '|---:|---:|---:|---|---:|---|',
    ...rows,
  ].join('\n');
  return { name: 'dashboard', title: 'Dashboard at rack sizes', markdown, data: Object.fromEntries(measured) };
}

/** One round of each: a reference deploy takes a quarter of an hour on two cores. Cold first, so warm finds the cache refilled. */
async function referenceSection(): Promise<Section> {
  const cold = await referenceDeploy('cold');
  const warm = await referenceDeploy('warm');
  const phases = warm.phases.map((p) => p.phase);
  for (const p of cold.phases) if (!phases.includes(p.phase)) phases.push(p.phase);
  const find = (r: typeof cold, phase: string) => r.phases.find((p) => p.phase === phase);
  const cell = (r: typeof cold, phase: string) => {
    const p = find(r, phase);
    return p ? `${(p.wallMs / 1000).toFixed(1)} s` : '–';
  };
  const rows = phases.map(
    (phase) =>
      `| ${phase} | ${cell(cold, phase)} | ${cell(warm, phase)} | ${(find(warm, phase) ?? find(cold, phase))!.nodes} |`,
  );
  const minutes = (r: typeof cold) => `${(r.totalMs / 60_000).toFixed(1)} min`;
  const markdown = [
    `\`bootstrap apply inventory/lab.yaml\` from no lab at all (machines created powered off, installed over PXE through their BMCs) to the converged OpenStack reference, lab creation included. Cold: the lab's package cache emptied, every package fetched from the Debian mirror (the base image is kept; it is built once per machine). Warm: the same run again with the cache the cold run filled. Phases from the run's own events: wall time from the first node entering a phase to the last leaving it (phases of different nodes overlap). Target: ≤ 15 min warm.`,
    '',
    `Total: **${minutes(warm)} warm**, ${minutes(cold)} cold (${warm.changed} changes).`,
    '',
    '| phase | cold | warm | nodes |',
    '|---|---:|---:|---:|',
    ...rows,
    `| **whole apply** | **${minutes(cold)}** | **${minutes(warm)}** | |`,
  ].join('\n');
  return {
    name: 'reference',
    title: 'Reference lab deploy',
    markdown,
    data: { cold, warm },
    method: 'one run each, cold then warm',
  };
}

/** Smoke rounds and one conformance run on the default lab (deployed first when it is not). */
async function cloudSection(rounds: number): Promise<Section> {
  const result = await cloudWorks(rounds);
  const all = result.smoke.flatMap((r) => r.hosts);
  const spread = (values: number[]) => `${median(values)} s (${Math.min(...values)}–${Math.max(...values)})`;
  const hosts = [...new Set(all.map((h) => h.host))];
  const rows = hosts.map((host) => {
    const mine = all.filter((h) => h.host === host);
    return `| ${host} | ${spread(mine.map((h) => h.activeS))} | ${spread(mine.map((h) => h.instanceIdS - h.activeS))} | ${spread(mine.map((h) => h.instanceIdS))} |`;
  });
  const t = result.tempest;
  const markdown = [
    `The default lab as \`bootstrap apply inventory/lab.yaml\` leaves it (TCG guests, no KVM). **Smoke** (\`verify --suite smoke\`, ${result.smoke.length} rounds): one server of the reference guest image on each compute at once, from the create request to ACTIVE, then to the guest printing on its console the address DHCP gave it and the instance id the metadata service gave it (whole seconds, as the check reports them). **Conformance** (\`verify --suite conformance\`): Debian's tempest ${t.tempest} with the reference include list (barclamps/tempest/README.md says what runs and why the rest cannot here), concurrency 2.`,
    '',
    '| compute | request → ACTIVE (median, min–max) | ACTIVE → instance id on the console | request → instance id |',
    '|---|---:|---:|---:|',
    ...rows,
    '',
    `Tempest: **${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped** of ${t.ran} in ${Math.round(t.seconds / 60)} min (${t.seconds} s).`,
  ].join('\n');
  return {
    name: 'cloud',
    title: 'The reference cloud at work',
    markdown,
    data: result,
    method: `${rounds} smoke rounds, one tempest run`,
  };
}

/** Masakari's instance and host recovery, and the return to service, on the default lab. */
async function recoverySection(rounds: number): Promise<Section> {
  const result = await recoveryRounds(rounds);
  const spread = (values: number[]) =>
    `${median(values).toFixed(0)} s (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
  const phase = (task: string) =>
    spread(result.map((r) => r.host.phases.find((p) => p.task === task)?.seconds ?? Number.NaN));
  const markdown = [
    `The default lab as \`bootstrap apply inventory/lab.yaml\` leaves it (stonith on, external/ipmi through ipmi_sim BMCs; nova.service_down_time 30 s, masakari.wait_period_after_service_update 35 s, host monitor interval 5 s). Per round: an \`HA_Enabled=True\` server on cmp1; its QEMU killed (\`lab inject CLOUD-INSTANCE-CRASHED\`); cmp1 powered off through its BMC (\`lab inject CLOUD-HOST-LOST\`); cmp1 powered on and \`bootstrap apply\` returning it to service. ${result.length} round(s), median (min–max).`,
    '',
    '| what | time |',
    '|---|---:|',
    `| instance crash: SIGKILL → ACTIVE with a new QEMU | ${spread(result.map((r) => r.instanceS))} |`,
    `| host failure: power-off → **ACTIVE on cmp2** (same id and address) | **${spread(result.map((r) => r.hostS))}** |`,
    `| — power-off → host monitor's notification (fenced meanwhile) | ${spread(result.map((r) => r.host.notifiedAfterPowerOffS))} |`,
    `| — DisableComputeService (nova-api's RPC to the lost compute while it still counts as up, then the wait) | ${phase('DisableComputeServiceTask')} |`,
    `| — EvacuateInstances (rebuilt on cmp2 from the image) | ${phase('EvacuateInstancesTask')} |`,
    `| power-on → back in service (cluster member, apply: nova-compute enabled, host off maintenance) | ${spread(result.map((r) => r.backS))} |`,
  ].join('\n');
  return {
    name: 'recovery',
    title: 'Masakari recovers instances',
    markdown,
    data: result,
    method: `${rounds} round(s)`,
  };
}

/** A real install onto a QEMU machine's disk, legacy BIOS and UEFI side by side in one apply. */
async function installSection(rounds: number): Promise<Section> {
  const result = await diskInstallRounds(rounds);
  const spread = (values: number[]) =>
    `${median(values).toFixed(0)} s (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
  const row = (firmware: 'bios' | 'uefi', label: string) => {
    const of = result.filter((r) => r.firmware === firmware);
    return `| ${label} | ${spread(of.map((r) => r.installS))} | ${spread(of.map((r) => r.bootS))} | **${spread(of.map((r) => r.totalS))}** |`;
  };
  const markdown = [
    `Per round a fresh lab with two QEMU/TCG machines (512 MiB, one vCPU each, 4 GiB virtio disk) in the inventory, installed side by side by one \`bootstrap apply\` (base barclamp) from powered-off, empty disks: PXE → the install ramdisk → the OS image (1 GiB raw, gzip) written and its SHA-256 checked → host keys, address, NIC name → callback → power-off → firmware → GRUB → the installed kernel → sshd. ${result.length / 2} round(s), median (min–max).`,
    '',
    '| firmware | power-cycle → installed callback | callback → SSH | power-cycle → SSH |',
    '|---|---:|---:|---:|',
    row('bios', 'SeaBIOS (legacy BIOS)'),
    row('uefi', 'OVMF (UEFI)'),
  ].join('\n');
  return { name: 'install', title: 'Installing onto a disk', markdown, data: result, method: `${rounds} round(s)` };
}

function seconds(r: SideResult): string {
  return `${(r.medianMs / 1000).toFixed(2)} s (${(r.minMs / 1000).toFixed(2)}–${(r.maxMs / 1000).toFixed(2)})`;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

async function main(argv: string[]): Promise<void> {
  const rounds = Number(argv[argv.indexOf('--rounds') + 1] ?? 3) || 3;
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
  const env = await environment();
  const benchmarks: [string, () => Promise<Section>][] = [
    ['sweep', () => sweepSection(rounds)],
    ['fanout', () => fanoutSection(rounds)],
    ['planning', () => planningSection(rounds)],
    ['dashboard', () => dashboardSection(rounds)],
    ['reference', () => referenceSection()],
    ['cloud', () => cloudSection(rounds)],
    ['recovery', () => recoverySection(rounds)],
    ['install', () => installSection(rounds)],
  ];
  const sections: Section[] = [];
  for (const [name, bench] of benchmarks) {
    if (only !== undefined && only !== name) continue;
    process.stderr.write(`bench: ${name} (${rounds} rounds)…\n`);
    const section = await bench();
    process.stdout.write(`\n## ${section.title}\n\n${section.markdown}\n`);
    sections.push(section);
  }
  // each benchmark keeps its own files, so `--only` refreshes one section and latest.md shows them all
  const dir = join(REPO, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const when = new Date().toISOString();
  const stamp = (section: Section) =>
    `${when} · ${Object.entries(env)
      .map(([k, v]) => `${k} ${v}`)
      .join(' · ')} · ${section.method ?? `${rounds} rounds, sides alternated`}`;
  for (const [name] of benchmarks) {
    const section = sections.find((s) => s.name === name);
    if (!section) continue;
    writeFileSync(join(dir, `${name}.md`), `## ${section.title}\n\n${stamp(section)}\n\n${section.markdown}\n`);
    writeFileSync(
      join(dir, `${name}.json`),
      `${JSON.stringify({ when, environment: env, rounds, results: section.data }, null, 2)}\n`,
    );
  }
  const parts = benchmarks
    .map(([name]) => join(dir, `${name}.md`))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f, 'utf8'));
  writeFileSync(join(dir, 'latest.md'), `# Benchmark results\n\n${parts.join('\n')}`);
  process.stderr.write(`bench: wrote bench/results/ (one .md and .json per benchmark, latest.md with all)\n`);
}

await main(process.argv.slice(2));
