import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REDACTED } from '../../src/failures/record.js';
import { startDashboard, type DashboardServer } from '../../src/dashboard/server.js';
import { request } from 'node:http';
import { dashboardView, type DashboardInput } from '../../src/dashboard/view-model.js';
import type { MachineRecord } from '../../src/provision/machine-store.js';
import { events, failure, REPO, run, RUN, taxonomy, timed } from './support/sample-run.js';

const machine = (node: string, state: MachineRecord['state']): MachineRecord => ({
  id: node,
  node,
  macs: ['52:54:00:00:00:01'],
  state,
  since: '2026-11-22T07:00:00.000Z',
  history: [],
  hardware: {
    cpu: { count: 4, model: 'x', flags: [] },
    memoryMiB: 8192,
    disks: [],
    nics: [{ name: 'eth0', mac: '52:54:00:00:00:01', link: true, speedMbps: 1000, addresses: [] }],
    dmi: { vendor: 'v', product: 'p', serial: 'SN-1', uuid: 'u' },
    bmcAddress: null,
  },
});

const input = (overrides: Partial<DashboardInput> = {}): DashboardInput => ({
  deployment: 'lab',
  nodes: [
    { name: 'ctl1', admin: '10.0.0.11', bmc: '10.0.1.11', roles: ['controller'] },
    { name: 'cmp1', admin: '10.0.0.12', bmc: '10.0.1.12', roles: ['compute'] },
  ],
  machines: [machine('ctl1', 'deploy-failed'), machine('cmp1', 'deployed')],
  power: { ctl1: 'on' },
  runs: [run],
  genes: taxonomy.genes,
  ...overrides,
});

describe('dashboard view model', () => {
  it('one row per node: life-cycle state, power as the BMC answered, hardware, how the current run ended there, last failure', () => {
    const view = dashboardView(input());
    expect(view.nodes).toEqual([
      {
        name: 'ctl1',
        state: 'deploy-failed',
        power: 'on',
        admin: '10.0.0.11',
        bmc: '10.0.1.11',
        roles: ['controller'],
        hardware: '4 CPU · 8 GiB · 1 NIC · S/N SN-1',
        activity: '[DB-ACCESS-DENIED] run db-sync: exit code 1',
        status: 'failed',
        lastFailure: { gene: 'DB-ACCESS-DENIED', message: 'run db-sync: exit code 1', at: failure.time },
      },
      {
        name: 'cmp1',
        state: 'deployed',
        power: '…',
        admin: '10.0.0.12',
        bmc: '10.0.1.12',
        roles: ['compute'],
        hardware: '4 CPU · 8 GiB · 1 NIC · S/N SN-1',
        activity: 'done: 1 change(s)',
        status: 'ok',
      },
    ]);
    expect(view.counts).toEqual({ ok: 1, failed: 1, running: 0, skipped: 0, idle: 0 });
    expect(view.current).toMatchObject({
      runId: RUN,
      command: 'apply',
      status: 'failed',
      changed: 1,
      failures: 1,
      plan: { create: 0, update: 0, run: 3, noop: 1 },
    });
  });

  it("shows masakari's notifications as the last bootstrap recoveries saw them, and each node's newest one next to it", () => {
    const recoveries = {
      at: '2026-11-29T21:40:00.000Z',
      notifications: [
        {
          id: 'n-running',
          kind: 'COMPUTE_HOST',
          host: 'cmp1',
          what: 'host cmp1 lost (OFFLINE, power confirmed off)',
          status: 'running',
          verdict: 'in-progress' as const,
          phases: [{ task: 'DisableComputeServiceTask', seconds: 12 }],
          created: '2026-11-29T21:39:00',
        },
        {
          id: 'n-back',
          kind: 'COMPUTE_HOST',
          host: 'ctl1',
          what: 'host ctl1 back (ONLINE)',
          status: 'finished',
          verdict: 'not-a-failure' as const,
          phases: [],
          created: '2026-11-29T21:38:00',
        },
      ],
    };
    const view = dashboardView(input({ recoveries }));
    expect(view.recoveries).toEqual(recoveries);
    expect(view.nodes.find((n) => n.name === 'cmp1')!.recovery).toEqual({
      verdict: 'in-progress',
      what: 'host cmp1 lost (OFFLINE, power confirmed off)',
      status: 'running',
    });
    // a host coming back is no failure to show next to it
    expect(view.nodes.find((n) => n.name === 'ctl1')!.recovery).toBeUndefined();
    expect(dashboardView(input()).recoveries).toBeUndefined();
  });

  it('a run still going shows what each node is doing now', () => {
    const going = { ...run, events: [...events.slice(0, 12)] };
    const view = dashboardView(input({ runs: [going] }));
    expect(view.nodes.map((n) => [n.name, n.status, n.activity])).toEqual([
      ['ctl1', 'running', 'keystone/server: run db-sync'],
      ['cmp1', 'running', 'ntp/client: service chrony'],
    ]);
    expect(view.current?.status).toBe('unfinished');
  });

  it('failures grouped by gene carry the taxonomy: symptom, what to do, how to re-create, and the newest evidence', () => {
    const [card] = dashboardView(input()).failures;
    const gene = taxonomy.genes.find((g) => g.code === 'DB-ACCESS-DENIED')!;
    expect(card).toMatchObject({
      gene: 'DB-ACCESS-DENIED',
      count: 1,
      nodes: ['ctl1'],
      symptoms: gene.symptoms,
      recreate: gene.recreate,
      mitigation: failure.mitigation,
    });
    expect(card!.evidence).toContain("Access denied for user 'keystone'");
  });

  it('the plan lists what changes, no-ops left out; timelines newest first', () => {
    const older = {
      ...run,
      id: '20261122T070000Z-old',
      events: [
        timed(-3600, {
          type: 'run.start',
          schema: 'bootstrap-events/1',
          runId: 'old',
          command: 'plan',
          deployment: 'lab',
          nodes: ['ctl1'],
          runDir: '/y',
        }),
      ],
    };
    const view = dashboardView(input({ runs: [older, run] }));
    expect(view.plan).toEqual([
      { node: 'ctl1', action: 'run', summary: 'keystone/server: run db-sync' },
      { node: 'ctl1', action: 'run', summary: 'keystone/server: run bootstrap' },
      { node: 'cmp1', action: 'run', summary: 'ntp/client: service chrony' },
    ]);
    expect(view.timelines.map((t) => t.runId)).toEqual([RUN, '20261122T070000Z-old']);
  });

  it('1,000 nodes: every node has its row; a timeline draws 60 lanes, failed nodes first, and says how many ran', () => {
    const nodes = Array.from({ length: 1000 }, (_, i) => ({
      name: `n${i}`,
      admin: `10.1.${i >> 8}.${i & 255}`,
      bmc: `10.2.${i >> 8}.${i & 255}`,
      roles: ['compute'],
    }));
    const names = nodes.map((n) => n.name);
    const big = {
      ...run,
      events: [
        timed(0, {
          type: 'run.start',
          schema: 'bootstrap-events/1',
          runId: RUN,
          command: 'apply',
          deployment: 'lab',
          nodes: names,
          runDir: '/x',
        }),
        ...names.map((node) =>
          timed(1, { type: 'node.done', node, status: node === 'n700' ? 'failed' : 'ok', changed: 0 }),
        ),
        timed(2, {
          type: 'run.done',
          runId: RUN,
          status: 'failed',
          nodesOk: 999,
          nodesFailed: 1,
          changed: 0,
          failures: 0,
          ms: 2000,
        }),
      ],
    };
    const view = dashboardView(input({ nodes, machines: nodes.map((n) => machine(n.name, 'deployed')), runs: [big] }));
    expect(view.nodes).toHaveLength(1000);
    const [timeline] = view.timelines;
    expect(timeline!.nodeCount).toBe(1000);
    expect(timeline!.nodes.map((n) => n.node)).toEqual(['n700', ...names.filter((n) => n !== 'n700').slice(0, 59)]);
  });
});

describe('dashboard server', () => {
  let server: DashboardServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const start = async (token?: string, maxStreams?: number) => {
    const secret = 'hunter2-very-secret-value';
    const view = () => dashboardView(input({ power: { ctl1: `on (${secret})` } }));
    server = await startDashboard({
      host: '127.0.0.1',
      port: 0,
      ...(token ? { token } : {}),
      ...(maxStreams ? { maxStreams } : {}),
      view,
      secrets: () => [secret],
      assetsDir: join(REPO, 'share/dashboard'),
      intervalMs: 50,
    });
    return { url: server.url, secret };
  };

  it('serves its own page and assets (no CDN), the view as JSON, and refuses anything but reading', async () => {
    const { url } = await start();
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<script src="app.js"');
    expect(html).not.toMatch(/https?:\/\//);
    expect((await fetch(new URL('app.js', url))).status).toBe(200);
    expect((await fetch(new URL('style.css', url))).status).toBe(200);
    const view = await (await fetch(new URL('api/view', url))).json();
    expect(view.nodes).toHaveLength(2);
    expect((await fetch(new URL('api/view', url), { method: 'POST' })).status).toBe(405);
    expect((await fetch(new URL('nothing', url))).status).toBe(404);
  });

  it('never sends a secret value, wherever in the view it is', async () => {
    const { url, secret } = await start();
    const body = await (await fetch(new URL('api/view', url))).text();
    expect(body).not.toContain(secret);
    expect(body).toContain(`on (${REDACTED})`);
  });

  it('with a token, every request must carry it', async () => {
    const token = 'a-token-of-sufficient-length';
    const { url } = await start(token);
    expect(url).toContain(`?token=${token}`);
    const bare = url.replace(/\?.*/, '');
    expect((await fetch(bare)).status).toBe(403);
    expect((await fetch(new URL('api/view', bare))).status).toBe(403);
    expect((await fetch(`${new URL('api/view', bare)}?token=wrong-token-of-same-size`)).status).toBe(403);
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(new URL('api/view', bare), { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
  });

  it('streams the view as Server-Sent Events, the whole view first', async () => {
    const { url } = await start();
    const controller = new AbortController();
    const response = await fetch(new URL('events', url), { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const data = JSON.parse(
      text
        .split('\n')
        .find((l) => l.startsWith('data: '))!
        .slice(6),
    );
    expect(data.deployment).toBe('lab');
    expect(data.nodes.map((n: { name: string }) => n.name)).toEqual(['ctl1', 'cmp1']);
  });

  it('without a token it answers only requests addressed to the loopback (DNS rebinding gets nothing)', async () => {
    const { url } = await start();
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const target = new URL('api/view', url);
        request(
          { host: target.hostname, port: target.port, path: target.pathname, headers: { host } },
          (res) => (res.resume(), resolve(res.statusCode!)),
        )
          .on('error', reject)
          .end();
      });
    const port = new URL(url).port;
    expect(await status(`127.0.0.1:${port}`)).toBe(200);
    expect(await status(`localhost:${port}`)).toBe(200);
    expect(await status(`attacker.example:${port}`)).toBe(403);
    expect(await status('attacker.example')).toBe(403);
  });

  it('keeps at most the allowed number of event streams open; more are refused until one closes', async () => {
    const { url } = await start(undefined, 2);
    const controllers = [new AbortController(), new AbortController()];
    const open = await Promise.all(controllers.map((c) => fetch(new URL('events', url), { signal: c.signal })));
    expect(open.map((r) => r.status)).toEqual([200, 200]);
    expect((await fetch(new URL('events', url))).status).toBe(503);
    controllers[0]!.abort();
    await new Promise((r) => setTimeout(r, 200));
    const again = new AbortController();
    expect((await fetch(new URL('events', url), { signal: again.signal })).status).toBe(200);
    again.abort();
    controllers[1]!.abort();
  });
});
