import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BootstrapEvent, TimedEvent } from '../src/run/events.js';
import { startDashboard } from '../src/dashboard/server.js';
import { dashboardView, type DashboardInput } from '../src/dashboard/view-model.js';
import type { FailureRecord } from '../src/failures/record.js';
import { loadTaxonomy } from '../src/failures/taxonomy.js';
import type { MachineRecord } from '../src/provision/machine-store.js';
import type { RunRecord } from '../src/report/run-record.js';
import { buildTimeline } from '../src/report/timeline.js';
import { REPO } from '../tests/integration/support/test-rack.js';

export interface DashboardMeasure {
  nodes: number;
  /** The five runs' timelines, built once per finished run. */
  timelinesMs: number;
  /** dashboardView over the inventory, machines and five runs: what the server does per tick. */
  viewMs: number;
  /** The whole view as JSON: what one Server-Sent Event carries. */
  viewBytes: number;
  /** Navigation until the first page of rows and every timeline are drawn, in headless Chromium. */
  firstViewMs: number;
  /** A node's state changes in the state directory → its row shows it (one tick of 100 ms included). */
  updateMs: number;
}

const STEPS_PER_NODE = 12;
const RUNS = 5;

/**
 * The dashboard at rack sizes, from synthetic state (every node provisioned, gathered and through twelve
 * steps in each of five runs, one node in a hundred failing): the server's per-tick cost, what each update
 * weighs, and how long Debian's Chromium takes to draw it and to show a change.
 */
export async function measureDashboard(nodes: number): Promise<DashboardMeasure> {
  const input = syntheticRack(nodes);
  let changedNode: string | undefined;
  // as serve does: finished runs are drawn once
  const drawStarted = performance.now();
  const drawn = new Map(input.runs.map((r) => [r, buildTimeline(r.id, r.events)]));
  const timelinesMs = performance.now() - drawStarted;
  const timelineOf = (r: RunRecord) => drawn.get(r)!;
  const view = () => {
    const machines = input.machines.map((m) =>
      m.node === changedNode ? { ...m, state: 'deploy-failed' as const } : m,
    );
    return dashboardView({ ...input, machines }, timelineOf);
  };
  const viewStarted = performance.now();
  const built = view();
  const viewMs = performance.now() - viewStarted;
  const server = await startDashboard({
    host: '127.0.0.1',
    port: 0,
    view,
    secrets: () => [],
    assetsDir: join(REPO, 'share/dashboard'),
    intervalMs: 100,
  });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const loadStarted = performance.now();
    await page.goto(server.url);
    await page.waitForFunction(
      (runs) =>
        document.querySelectorAll('#nodes tbody tr').length > 0 &&
        document.querySelectorAll('#timelines svg').length === runs,
      RUNS,
      { timeout: 120_000 },
    );
    const firstViewMs = performance.now() - loadStarted;
    const updateStarted = performance.now();
    changedNode = 'n0';
    await page.waitForFunction(
      () => document.querySelector('#nodes tbody tr[data-node="n0"] .state')?.textContent === 'deploy-failed',
      undefined,
      { timeout: 120_000 },
    );
    const updateMs = performance.now() - updateStarted;
    return { nodes, timelinesMs, viewMs, viewBytes: Buffer.byteLength(JSON.stringify(built)), firstViewMs, updateMs };
  } finally {
    await browser.close();
    await server.close();
  }
}

function syntheticRack(count: number): DashboardInput {
  const taxonomy = loadTaxonomy(join(REPO, 'share/taxonomy.yaml'));
  const names = Array.from({ length: count }, (_, i) => `n${i}`);
  const machines: MachineRecord[] = names.map((node, i) => ({
    id: node,
    node,
    macs: [mac(i)],
    state: 'deployed',
    since: '2026-11-22T07:00:00.000Z',
    history: [],
    hardware: {
      cpu: { count: 32, model: 'Xeon', flags: [] },
      memoryMiB: 262_144,
      disks: [],
      nics: [{ name: 'eth0', mac: mac(i), link: true, speedMbps: 25_000, addresses: [] }],
      dmi: { vendor: 'Dell Inc.', product: 'PowerEdge R650', serial: `SN${i}`, uuid: `uuid-${i}` },
      bmcAddress: null,
    },
  }));
  return {
    deployment: 'bench',
    nodes: names.map((name, i) => ({
      name,
      admin: `10.1.${i >> 8}.${i & 255}`,
      bmc: `10.2.${i >> 8}.${i & 255}`,
      roles: [i === 0 ? 'controller' : 'compute'],
    })),
    machines,
    power: Object.fromEntries(names.map((n) => [n, 'on'])),
    runs: Array.from({ length: RUNS }, (_, r) => syntheticRun(`20261122T0${r}0000.000Z-bench${r}`, names)),
    genes: taxonomy.genes,
  };
}

function syntheticRun(id: string, names: readonly string[]): RunRecord {
  const start = Date.parse(`${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(9, 11)}:00:00.000Z`);
  const at = (seconds: number, event: BootstrapEvent): TimedEvent =>
    ({ time: new Date(start + seconds * 1000).toISOString(), ...event }) as TimedEvent;
  const events: TimedEvent[] = [
    at(0, {
      type: 'run.start',
      schema: 'bootstrap-events/1',
      runId: id,
      command: 'apply',
      deployment: 'bench',
      nodes: [...names],
      runDir: '/bench',
    }),
  ];
  const failures: FailureRecord[] = [];
  for (const [i, node] of names.entries()) {
    events.push(at(1, { type: 'gather.start', node }), at(2, { type: 'gather.ok', node, ms: 1000 }));
    const fails = i % 100 === 7;
    for (let s = 0; s < STEPS_PER_NODE; s++) {
      const step = `nova/compute:file:/etc/nova/file-${s}.conf`;
      const summary = `write /etc/nova/file-${s}.conf`;
      events.push(at(3 + s, { type: 'step.start', node, step, summary }));
      if (fails && s === STEPS_PER_NODE - 1) {
        const record = failureRecord(id, node, step);
        failures.push(record);
        events.push(
          at(4 + s, { type: 'failure.recorded', record }),
          at(4 + s, {
            type: 'step.fail',
            node,
            step,
            summary,
            gene: record.gene,
            message: record.evidence.message,
            ms: 900,
          }),
        );
      } else {
        events.push(at(4 + s, { type: 'step.ok', node, step, summary, action: 'update', ms: 900, attempt: 1 }));
      }
    }
    events.push(
      at(4 + STEPS_PER_NODE, { type: 'node.done', node, status: fails ? 'failed' : 'ok', changed: STEPS_PER_NODE }),
    );
  }
  events.push(
    at(5 + STEPS_PER_NODE, {
      type: 'run.done',
      runId: id,
      status: failures.length ? 'failed' : 'ok',
      nodesOk: names.length - failures.length,
      nodesFailed: failures.length,
      changed: names.length * STEPS_PER_NODE,
      failures: failures.length,
      ms: (5 + STEPS_PER_NODE) * 1000,
    }),
  );
  return { id, events, failures };
}

function failureRecord(runId: string, node: string, step: string): FailureRecord {
  return {
    runId,
    time: '2026-11-22T08:00:09.000Z',
    node,
    barclamp: 'nova',
    role: 'compute',
    step,
    attempt: 1,
    gene: 'SVC-START-FAILED',
    title: 'Service fails to start',
    layer: 'service',
    classification: 'config_error',
    component: 'systemd',
    severity: 'high',
    release: 'zed',
    toolVersion: '0.1.0',
    symptom: 'systemctl start exits non-zero',
    cause: 'bad configuration',
    mitigation: 'Read the journal excerpt',
    retryable: false,
    recreate: 'Write an invalid directive',
    evidence: {
      source: 'remote-exec',
      message: 'service nova-compute: exit code 1',
      exitCode: 1,
      stderrTail: 'nova-compute.service: Failed with result exit-code.',
    },
  };
}

function mac(i: number): string {
  return `52:54:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}
