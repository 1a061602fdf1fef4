import { normalizeMode } from '../barclamp/manifest.js';
import { shellQuote, shellWords } from '../transport/shell-quote.js';
import type { DesiredState } from './desired-types.js';
import type { FactRequest, NodeFacts, PathFact } from './facts.js';

/** Files up to this size are fetched whole so the plan can show a diff; larger ones by checksum only. */
const MAX_CONTENT_BYTES = 256 * 1024;
export const END_MARKER = '__BOOTSTRAP_GATHER_END__';

export function factRequestFor(desired: DesiredState, node: string): FactRequest {
  const request: FactRequest = { paths: [], packages: [], services: [], guards: [] };
  const nodeDesired = desired.nodes.find((n) => n.node === node);
  for (const batch of nodeDesired?.batches ?? []) {
    for (const r of batch.resources) {
      if (r.type === 'file' || r.type === 'directory') request.paths.push(r.path);
      else if (r.type === 'package') request.packages.push(...r.names);
      else if (r.type === 'service') request.services.push(r.name);
      else if (r.creates !== undefined || r.unless !== undefined)
        request.guards.push({
          id: r.id,
          ...(r.creates !== undefined ? { creates: r.creates } : {}),
          ...(r.unless !== undefined ? { unless: r.unless } : {}),
        });
    }
  }
  request.paths = [...new Set(request.paths)].sort();
  request.packages = [...new Set(request.packages)].sort();
  request.services = [...new Set(request.services)].sort();
  return request;
}

/** One POSIX sh script that probes everything a node's plan needs, in a single SSH round trip. */
/** On each node: one empty file per service whose restart is still owed (see NodeFacts.pendingRestarts). */
export const PENDING_RESTART_DIR = '/var/lib/bootstrap/restart-pending';

export function gatherScript(request: FactRequest): string {
  const lines = [
    'export LC_ALL=C',
    'probe() {',
    '  if [ -L "$2" ] || [ -e "$2" ]; then',
    '    if [ -d "$2" ]; then k=directory; elif [ -f "$2" ]; then k=file; else k=other; fi',
    '    st=$(stat -c "%a %U %G" -- "$2")',
    '    sum=-; b=-',
    '    if [ "$k" = file ]; then',
    '      sum=$(sha256sum -- "$2" | cut -d" " -f1)',
    `      if [ "$(stat -c %s -- "$2")" -le ${MAX_CONTENT_BYTES} ]; then b=$(base64 -w0 -- "$2"); fi`,
    '    fi',
    '    printf "P\\t%s\\t%s\\t%s\\t%s\\t%s\\n" "$1" "$k" "$st" "$sum" "$b"',
    '  else printf "P\\t%s\\tabsent\\n" "$1"; fi',
    '}',
  ];
  request.paths.forEach((path, i) => lines.push(`probe ${i} ${shellQuote(path)}`));
  if (request.packages.length > 0) {
    lines.push(
      `dpkg-query -W -f='K\\t\${Package}\\t\${db:Status-Abbrev}\\t\${Version}\\n' ${shellWords(request.packages)} 2>/dev/null || true`,
    );
  }
  for (const service of request.services) {
    const q = shellQuote(service);
    lines.push(
      `printf "S\\t%s\\t%s\\t%s\\n" ${q} "$(systemctl is-enabled ${q} 2>/dev/null)" "$(systemctl is-active ${q} 2>/dev/null)"`,
    );
  }
  // An `unless` may carry a secret (a database password): it travels in this script (stdin) into a 0600 file of
  // a private directory, never into an argument vector, where any user of the node could read it in /proc
  if (request.guards.some((g) => g.unless !== undefined))
    lines.push(
      'guards=$(mktemp -d /run/bootstrap-guards.XXXXXX 2>/dev/null || mktemp -d)',
      `trap 'rm -rf "$guards"' EXIT`,
    );
  request.guards.forEach((guard, i) => {
    const branches: string[] = [];
    if (guard.creates !== undefined) branches.push(`[ -e ${shellQuote(guard.creates)} ]`);
    if (guard.unless !== undefined) {
      let end = `BOOTSTRAP_GUARD_${i}_END`;
      while (guard.unless.split('\n').includes(end)) end += '_';
      lines.push(`cat > "$guards/${i}" <<'${end}'`, guard.unless.replace(/\n$/, ''), end);
      // output to a file, not a pipe: a daemon a guard leaves behind must not hold the gather open
      branches.push(`timeout 60 sh "$guards/${i}" </dev/null >"$guards/${i}.out" 2>&1`);
    }
    // guards are independent read-only probes, some slow (API clients, database tools): run them side by
    // side so a node's gather costs its slowest guard, not their sum; each result is one short atomic line,
    // with the last line a failing `unless` printed (what it says is left to do), control characters dropped
    const reason =
      guard.unless !== undefined
        ? `"$(tr -d '\\000-\\010\\013-\\037\\177' <"$guards/${i}.out" | tr '\\t' ' ' | grep -v '^[[:space:]]*$' | tail -n 1 | cut -c1-200)"`
        : "''";
    lines.push(
      `( if ${branches.join(' || ')}; then printf "G\\t${i}\\t1\\n"; else printf "G\\t${i}\\t0\\t%s\\n" ${reason}; fi ) &`,
    );
  });
  if (request.guards.length > 0) lines.push('wait');
  lines.push(`for f in ${PENDING_RESTART_DIR}/*; do [ -f "$f" ] && printf "R\\t%s\\n" "\${f##*/}"; done`);
  lines.push(`echo ${END_MARKER}`);
  return `${lines.join('\n')}\n`;
}

export type GatherParse = { ok: true; facts: NodeFacts } | { ok: false; problem: string };

export function parseGatherOutput(node: string, request: FactRequest, stdout: string): GatherParse {
  if (!stdout.includes(END_MARKER))
    return { ok: false, problem: 'gather output ended early (probe script did not finish)' };
  const facts: NodeFacts = { node, paths: {}, packages: {}, services: {}, guards: {} };
  for (const name of request.packages) facts.packages[name] = { installed: false };
  for (const line of stdout.split('\n')) {
    const fields = line.split('\t');
    switch (fields[0]) {
      case 'P': {
        const path = request.paths[Number(fields[1])];
        if (path === undefined) break;
        facts.paths[path] = parsePath(fields);
        break;
      }
      case 'K': {
        const [, name, status, version] = fields;
        if (name !== undefined && name in facts.packages)
          facts.packages[name] = status?.startsWith('ii')
            ? { installed: true, ...(version ? { version } : {}) }
            : { installed: false };
        break;
      }
      case 'S': {
        const [, name, enabled, active] = fields;
        if (name !== undefined)
          facts.services[name] = {
            enabled:
              enabled === 'enabled' ||
              enabled === 'static' ||
              enabled === 'alias' ||
              enabled === 'indirect' ||
              enabled === 'generated',
            active: active === 'active',
          };
        break;
      }
      case 'R': {
        if (fields[1]) facts.pendingRestarts = [...(facts.pendingRestarts ?? []), fields[1]];
        break;
      }
      case 'G': {
        const guard = request.guards[Number(fields[1])];
        if (!guard) break;
        facts.guards[guard.id] = fields[2] === '1';
        if (fields[2] === '0' && fields[3]) facts.guardReasons = { ...facts.guardReasons, [guard.id]: fields[3] };
        break;
      }
    }
  }
  for (const path of request.paths)
    if (!(path in facts.paths)) return { ok: false, problem: `no probe result for ${path}` };
  return { ok: true, facts };
}

function parsePath(fields: string[]): PathFact {
  if (fields[2] === 'absent') return { exists: false };
  const [mode = '0', owner = '', group = ''] = (fields[3] ?? '').split(' ');
  const fact: PathFact = {
    exists: true,
    kind: fields[2] as 'file' | 'directory' | 'other',
    mode: normalizeMode(mode),
    owner,
    group,
  };
  if (fields[4] && fields[4] !== '-') fact.sha256 = fields[4];
  if (fields[5] !== undefined && fields[5] !== '-') fact.content = Buffer.from(fields[5], 'base64').toString('utf8');
  return fact;
}
