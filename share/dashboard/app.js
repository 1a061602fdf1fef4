// The dashboard page: draws the view the server streams (Server-Sent Events), nothing else. Every text goes
// in through textContent, never as markup. Read-only: the page has no way to change anything.
'use strict';

const PAGE_SIZE = 50;
const token = new URLSearchParams(location.search).get('token');
const withToken = (path) => (token ? `${path}?token=${encodeURIComponent(token)}` : path);
let view = null;
let page = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

const seconds = (ms) =>
  ms >= 60000 ? `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;

function renderHeader() {
  document.getElementById('deployment').textContent = view.deployment;
  document.title = `bootstrap — ${view.deployment}`;
  const status = document.getElementById('run-status');
  const run = view.current;
  status.textContent = run ? `${run.command}: ${run.status}` : 'no run yet';
  status.className = `badge ${run ? run.status : ''}`;
  document.getElementById('run-line').textContent = run
    ? `run ${run.runId} · started ${run.startedAt} · ${seconds(run.durationMs)} · ${run.changed} change(s) · ${run.failures} failure(s)`
    : '';
  const counts = document.getElementById('counts');
  counts.replaceChildren(
    ...['ok', 'running', 'failed', 'skipped', 'idle']
      .filter((s) => view.counts[s] > 0)
      .map((s) => el('span', { class: s }, `${view.counts[s]} ${s}`)),
  );
}

function matches(node, needle) {
  if (!needle) return true;
  const hay = [
    node.name,
    node.state,
    node.power,
    node.admin,
    node.bmc,
    node.activity,
    node.status,
    ...node.roles,
    node.lastFailure?.gene ?? '',
  ]
    .join(' ')
    .toLowerCase();
  return needle.split(/\s+/).every((word) => hay.includes(word));
}

function renderNodes() {
  const needle = document.getElementById('filter').value.trim().toLowerCase();
  const shown = view.nodes.filter((n) => matches(n, needle));
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  page = Math.min(page, pages - 1);
  const rows = shown
    .slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)
    .map((n) =>
      el(
        'tr',
        { class: n.status, 'data-node': n.name },
        el('td', {}, el('strong', {}, n.name)),
        el('td', { class: 'state' }, n.state),
        el('td', { class: 'power' }, n.power),
        el('td', {}, n.admin),
        el('td', {}, n.bmc),
        el('td', {}, n.hardware),
        el('td', { class: 'now' }, n.activity),
        el(
          'td',
          { class: 'failure' },
          n.lastFailure
            ? el('span', {}, el('span', { class: 'gene' }, n.lastFailure.gene), ` ${n.lastFailure.message}`)
            : '',
        ),
        el(
          'td',
          { class: `recovery ${n.recovery ? n.recovery.verdict : ''}` },
          n.recovery ? `${n.recovery.verdict} (${n.recovery.status}): ${n.recovery.what}` : '',
        ),
      ),
    );
  document.querySelector('#nodes tbody').replaceChildren(...rows);
  const pager = document.getElementById('pager');
  const parts = [`${shown.length} of ${view.nodes.length} node(s)`];
  pager.replaceChildren(parts[0]);
  if (pages > 1) {
    const prev = el('button', { type: 'button' }, '‹');
    const next = el('button', { type: 'button' }, '›');
    prev.disabled = page === 0;
    next.disabled = page === pages - 1;
    prev.onclick = () => {
      page--;
      renderNodes();
    };
    next.onclick = () => {
      page++;
      renderNodes();
    };
    pager.append(' ', prev, ` page ${page + 1} of ${pages} `, next);
  }
}

function renderFailures() {
  const box = document.getElementById('failures');
  if (view.failures.length === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, view.current ? 'No failure in this run.' : 'No run yet.'));
    return;
  }
  box.replaceChildren(
    ...view.failures.map((f) =>
      el(
        'div',
        { class: 'card', 'data-gene': f.gene },
        el('h3', {}, el('span', { class: 'gene' }, f.gene), ` — ${f.title} (${f.count}× on ${f.nodes.join(', ')})`),
        el('p', {}, el('span', { class: 'label' }, 'symptom: '), f.symptoms),
        el('p', { class: 'mitigation' }, el('span', { class: 'label' }, 'what to do: '), f.mitigation),
        el('p', {}, el('span', { class: 'label' }, 'to re-create: '), f.recreate),
        el('pre', {}, f.evidence),
      ),
    ),
  );
}

// masakari's notifications as the last `bootstrap recoveries` read them; each phase a bar as wide as it took
function renderRecoveries() {
  const snapshot = view.recoveries;
  document.getElementById('recoveries-at').textContent = snapshot
    ? `as of ${snapshot.at} (bootstrap recoveries INVENTORY reads them again and records new ones)`
    : 'bootstrap recoveries INVENTORY has not run yet.';
  const rows = (snapshot ? snapshot.notifications : []).map((r) => {
    const total = r.phases.reduce((sum, p) => sum + p.seconds, 0) || 1;
    const bars = el(
      'div',
      { class: 'phases' },
      ...r.phases.map((p) => {
        const bar = el(
          'span',
          { class: 'phase', title: `${p.task}: ${p.seconds} s` },
          `${p.task.replace(/Task$/, '')} ${p.seconds} s`,
        );
        bar.style.flexGrow = String(Math.max(p.seconds / total, 0.02)); // CSSOM, which the page's CSP allows (a style attribute it would not)
        return bar;
      }),
    );
    return el(
      'tr',
      { class: r.verdict },
      el('td', {}, el('span', { class: 'gene' }, r.gene || r.kind), ` ${r.id.slice(0, 8)}`),
      el('td', {}, r.what),
      el('td', {}, `${r.verdict} (${r.status})`),
      el('td', {}, r.totalSeconds !== undefined ? `${r.totalSeconds} s` : ''),
      el('td', {}, bars),
    );
  });
  document.querySelector('#recoveries tbody').replaceChildren(...rows);
}

function renderTimelines() {
  const box = document.getElementById('timelines');
  if (view.timelines.length === 0) {
    box.replaceChildren(el('p', { class: 'empty' }, 'No run yet.'));
    return;
  }
  box.replaceChildren(
    ...view.timelines.map((t) => {
      // the server sends at most 60 lanes per run, failed nodes first
      const lanes = t.nodes;
      const span = Math.max(t.durationMs, 1);
      const labelWidth = 130;
      const width = 1000;
      const laneHeight = 24;
      const chart = svg('svg', {
        class: 'timeline',
        viewBox: `0 0 ${width} ${lanes.length * laneHeight + 4}`,
        role: 'img',
        'aria-label': `timeline of run ${t.runId}`,
      });
      const x = (ms) => labelWidth + ((width - labelWidth - 4) * ms) / span;
      lanes.forEach((lane, i) => {
        const y = i * laneHeight + 2;
        chart.append(svg('text', { class: 'lane-name', x: 0, y: y + 16 }, `${lane.node} (${lane.status})`));
        for (const p of lane.phases) {
          const w = Math.max(3, x(p.endMs) - x(p.startMs));
          const g = svg('g');
          g.append(
            svg(
              'title',
              {},
              `${p.name}: ${p.status}, +${seconds(p.startMs)}, took ${seconds(p.endMs - p.startMs)}, ${p.steps} step(s)`,
            ),
          );
          g.append(
            svg('rect', { class: p.status, x: x(p.startMs), y: y + 2, width: w, height: laneHeight - 6, rx: 2 }),
          );
          // a label only where it fits (about 6.5 px per character at this size): SVG text is not clipped
          if (w > p.name.length * 6.5 + 6)
            g.append(svg('text', { class: 'phase-name', x: x(p.startMs) + 3, y: y + 15 }, p.name));
          chart.append(g);
        }
        for (const f of lane.failures) {
          const mark = svg('rect', { class: 'mark', x: x(f.atMs) - 1, y, width: 3, height: laneHeight - 2 });
          mark.append(svg('title', {}, `${f.gene} in ${f.phase}: ${f.message}`));
          chart.append(mark);
        }
      });
      const more = t.nodeCount > lanes.length ? ` — ${lanes.length} of ${t.nodeCount} nodes (failed first)` : '';
      return el(
        'div',
        { class: 'run', 'data-run': t.runId },
        el(
          'h3',
          {},
          `${t.command} ${t.runId} · ${t.status} · ${seconds(t.durationMs)} · ${t.changed} change(s)${more}`,
        ),
        chart,
      );
    }),
  );
}

function renderPlan() {
  const run = view.current;
  document.getElementById('plan-summary').textContent = run?.plan
    ? `${run.plan.create} to create, ${run.plan.update} to update, ${run.plan.run} to run, ${run.plan.noop} already right${view.plan.length >= 500 ? ' (first 500 changes listed)' : ''}`
    : 'No plan in this run.';
  document
    .getElementById('plan')
    .replaceChildren(
      ...view.plan.map((p) =>
        el(
          'li',
          {},
          el('strong', {}, p.node),
          ` ${p.action === 'create' ? '+' : p.action === 'update' ? '~' : '!'} ${p.summary}`,
        ),
      ),
    );
}

function render() {
  if (!view) return;
  renderHeader();
  renderNodes();
  renderRecoveries();
  renderFailures();
  renderTimelines();
  renderPlan();
}

function connect() {
  const source = new EventSource(withToken('events'));
  const connection = document.getElementById('connection');
  source.onmessage = (message) => {
    view = JSON.parse(message.data);
    connection.textContent = '';
    render();
  };
  // EventSource reconnects by itself (retry: 2000); say so meanwhile
  source.onerror = () => {
    connection.textContent = 'connection to bootstrap lost — reconnecting…';
  };
}

document.getElementById('filter').addEventListener('input', () => {
  page = 0;
  renderNodes();
});
connect();
