import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTaxonomy } from '../../src/failures/taxonomy.js';
import { generatedSecrets, labInventory } from './support/lab-harness.js';
import { REPO, runCli, sleep } from './support/test-rack.js';

/**
 * The dashboard as people on deploy day see it: `bootstrap serve` beside a real lab apply, the page in
 * Debian's headless Chromium (driven by playwright-core; no browser download). The final view is saved as
 * test-artifacts/dashboard.png. Private subnets 10.79.224.0/24 (admin) and 10.79.225.0/24 (BMC).
 */
describe('the live dashboard in a real browser, beside a lab apply', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bootstrap-ui-'));
  const labDir = join(dir, 'lab');
  const stateDir = join(dir, 'state');
  const inventory = join(dir, 'inventory.yaml');
  const artifacts = join(REPO, 'test-artifacts');
  const taxonomy = loadTaxonomy(join(REPO, 'share/taxonomy.yaml'));
  const cli = (args: string[]) =>
    runCli(args, {
      cwd: dir,
      env: { BOOTSTRAP_STATE_DIR: stateDir, BOOTSTRAP_INSTALL_DEADLINE_MS: '180000' },
      timeoutMs: 900_000,
    });
  let serve: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';

  beforeAll(async () => {
    const doc = labInventory({
      deployment: 'tu',
      admin: '10.79.224',
      bmc: '10.79.225',
      labDir,
      // vault/holder renders a generated secret into a file and a command: the page must never show it
      roles: { first: ['base/node', 'ntp/server', 'vault/holder'], second: ['base/node', 'ntp/client'] },
      nodes: [
        { name: 'n1', mac: '52:54:00:79:24:11', host: 11, roles: ['first'] },
        { name: 'n2', mac: '52:54:00:79:24:12', host: 12, roles: ['second'] },
      ],
    });
    writeFileSync(inventory, stringify({ ...doc, barclamp_paths: [join(REPO, 'tests/fixtures/barclamps')] }));
    const up = await cli(['lab', 'up', inventory]);
    expect(up.code, up.stderr).toBe(0);
    serve = spawn('node', [join(REPO, 'bin/bootstrap.js'), 'serve', inventory, '--listen', '127.0.0.1:0'], {
      cwd: dir,
      env: { ...process.env, BOOTSTRAP_STATE_DIR: stateDir },
    });
    url = await new Promise<string>((resolve, reject) => {
      let err = '';
      serve!.stderr!.on('data', (c: Buffer) => {
        err += c.toString();
        const found = /dashboard: (http:\/\/\S+)/.exec(err);
        if (found) resolve(found[1]!);
      });
      serve!.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    browser = await chromium.launch({
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
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(url);
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    serve?.kill('SIGINT');
    await cli(['lab', 'heal', inventory]);
    await cli(['lab', 'down', inventory]);
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = () =>
    page.$$eval('#nodes tbody tr', (trs) =>
      trs.map((tr) => ({
        node: tr.getAttribute('data-node'),
        status: tr.className,
        state: tr.querySelector('.state')?.textContent,
        now: tr.querySelector('.now')?.textContent,
      })),
    );

  it('shows the lab nodes, then follows an apply live until both are deployed, with a timeline per node', async () => {
    await page.waitForSelector('#nodes tbody tr[data-node="n2"]');
    expect((await rows()).map((r) => r.node)).toEqual(['n1', 'n2']);
    const apply = cli(['apply', inventory]);
    // while it runs, the page says what each node is doing
    await page.waitForFunction(
      () => [...document.querySelectorAll('#nodes tbody tr')].some((tr) => tr.classList.contains('running')),
      undefined,
      { timeout: 120_000 },
    );
    const done = await apply;
    expect(done.code, done.stdout).toBe(0);
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#nodes tbody tr')].every(
          (tr) => tr.querySelector('.state')?.textContent === 'deployed' && tr.classList.contains('ok'),
        ),
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.textContent('#run-status')).toBe('apply: ok');
    // one lane per node, a bar per phase (provision, gather, each barclamp role)
    const lanes = await page.$$eval('#timelines .run:first-child svg text.lane-name', (texts) =>
      texts.map((t) => t.textContent),
    );
    expect(lanes).toEqual(['n1 (ok)', 'n2 (ok)']);
    expect(await page.$$eval('#timelines .run:first-child svg rect.ok', (r) => r.length)).toBeGreaterThanOrEqual(6);
    await page.waitForFunction(
      () => [...document.querySelectorAll('#nodes td.power')].every((td) => td.textContent === 'on'),
      undefined,
      { timeout: 60_000 },
    );
  }, 900_000);

  it('a failure injected in the lab appears with its gene, evidence and what to do; nothing secret reaches the page', async () => {
    const injected = await cli(['lab', 'inject', 'SVC-START-FAILED', inventory, '--node', 'n2']);
    expect(injected.code, injected.stderr).toBe(0);
    const broken = await cli(['apply', inventory]);
    expect(broken.code).toBe(1);
    const card = await page.waitForSelector('#failures .card[data-gene="SVC-START-FAILED"]', { timeout: 30_000 });
    const gene = taxonomy.genes.find((g) => g.code === 'SVC-START-FAILED')!;
    expect(await card.$eval('.mitigation', (p) => p.textContent)).toBe(`what to do: ${gene.mitigation}`);
    expect(await card.$eval('pre', (p) => p.textContent)).toMatch(/chrony/);
    await page.waitForFunction(
      () => document.querySelector('#nodes tbody tr[data-node="n2"]')?.classList.contains('failed'),
      undefined,
      { timeout: 30_000 },
    );
    expect(await page.textContent('#nodes tbody tr[data-node="n2"] td.failure')).toContain('SVC-START-FAILED');
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
    const shown = `${await page.content()}\n${await (await fetch(new URL('api/view', url))).text()}`;
    const secrets = [...generatedSecrets(stateDir), readFileSync(join(labDir, 'bmc-password'), 'utf8').trim()];
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    for (const secret of secrets) expect(shown).not.toContain(secret);
    const healed = await cli(['lab', 'heal', 'SVC-START-FAILED', inventory, '--node', 'n2']);
    expect(healed.code).toBe(0);
    expect((await cli(['apply', inventory])).code).toBe(0);
    await page.waitForFunction(() => document.querySelector('#failures .card') === null, undefined, {
      timeout: 30_000,
    });
  }, 900_000);

  it('the page keeps serving from its own server only, and refuses to listen beyond loopback without a token', async () => {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.reload();
    await page.waitForSelector('#nodes tbody tr');
    await sleep(1500);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((r) => new URL(r).origin !== new URL(url).origin)).toEqual([]);
    const open = await cli(['serve', inventory, '--listen', '0.0.0.0:0']);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('needs a token');
  }, 120_000);
});
