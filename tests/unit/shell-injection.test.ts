import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/core/diagnostic.js';
import { loadInventory } from '../../src/inventory/load.js';
import { computeDesired, declaredSecrets } from '../../src/plan/desired.js';
import type { DesiredResource } from '../../src/plan/desired-types.js';
import { shellTemplateProblems } from '../../src/barclamp/shell-template.js';

const REPO = join(import.meta.dirname, '../..');
const lab = parse(readFileSync(join(REPO, 'inventory/lab.yaml'), 'utf8')) as Record<string, any>;

/** The lab inventory with some attributes changed (and the probe barclamp on the controller), loaded as `bootstrap plan` loads it. */
function withAttributes(dir: string, attributes: Record<string, Record<string, unknown>>) {
  const file = join(dir, 'inventory.yaml');
  const inventory = structuredClone(lab);
  for (const [barclamp, values] of Object.entries(attributes))
    inventory.attributes[barclamp] = { ...inventory.attributes[barclamp], ...values };
  inventory.barclamp_paths = [PROBE];
  inventory.roles.controller = [...inventory.roles.controller, 'probe/node'];
  writeFileSync(file, stringify(inventory));
  return { file, loaded: loadInventory(file, { builtinBarclamps: join(REPO, 'barclamps'), home: '/root' }) };
}

/**
 * A barclamp whose string attribute has no pattern at all, used in every shell context a barclamp has: a command,
 * its guard (which `bootstrap plan` runs), a check, inside $( ), and a *.sh.ejs file.
 */
const PROBE = mkdtempSync(join(tmpdir(), 'probe-barclamps-'));
mkdirSync(join(PROBE, 'probe/templates'), { recursive: true });
writeFileSync(
  join(PROBE, 'probe/barclamp.yaml'),
  `name: probe
description: Attack corpus probe.
version: 1.0.0
requires: [base]
attributes:
  value: { type: string, description: Anything at all., default: x }
roles:
  node:
    description: Uses the value everywhere shell code can.
    resources:
      - file: { path: /usr/local/sbin/probe, template: probe.sh.ejs, mode: "0755" }
      - command:
          name: use
          run: probe-tool run <%= attributes.value %> && probe-tool inner "$(probe-tool sub <%= attributes.value %>)"
          unless: probe-tool guard <%= attributes.value %>
    checks:
      - command: { name: look, run: probe-tool check <%= attributes.value %> }
`,
);
writeFileSync(
  join(PROBE, 'probe/templates/probe.sh.ejs'),
  '#!/bin/sh\nprobe-tool file <%= attributes.value %>\nvalue=<%= attributes.value %>\nprobe-tool variable "$value"\n',
);

function rendered(loaded: ReturnType<typeof loadInventory>) {
  const inventory = loaded.inventory!;
  const secrets = Object.fromEntries(
    declaredSecrets(inventory, loaded.catalog.barclamps).map(({ key }) => [key, `secret-${key.replace(/\W/g, '')}`]),
  );
  for (const n of inventory.nodes) secrets[`bmc_fence.${n.name}`] = 'fence-password';
  const result = computeDesired({
    inventory,
    barclamps: loaded.catalog.barclamps,
    secrets,
    sharedTemplates: join(REPO, 'barclamps', '_shared'),
  });
  if (!result.ok) throw new Error(result.diagnostics.map((d) => formatDiagnostic(d)).join('\n'));
  const batches = result.desired.nodes.find((n) => n.node === 'ctl1')!.batches;
  const find = (id: string) => batches.flatMap((b) => [...b.resources, ...b.checks]).find((r) => r.id === id)!;
  const command = find('probe/node:command:use') as Extract<DesiredResource, { type: 'command' }>;
  const file = find('probe/node:file:/usr/local/sbin/probe') as Extract<DesiredResource, { type: 'file' }>;
  const check = find('probe/node:check:look') as { run: string };
  return { guard: command.unless!, run: command.run, check: check.run, file: file.content };
}

/**
 * Runs a rendered script in a real sh whose probe-tool only writes down the arguments it got (one file per
 * call, arguments NUL-separated): what reached the program, and whether anything else ran.
 */
function runWithStubs(dir: string, script: string): { calls: string[][]; marker: boolean } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'probe-tool'),
    `#!/bin/sh\nn=$(ls ${dir}/calls 2>/dev/null | wc -l)\nmkdir -p ${dir}/calls\nprintf '%s\\0' "$@" > ${dir}/calls/$n\n[ "$1" = sub ] && printf '%s' "$2"\nexit 0\n`,
  );
  chmodSync(join(bin, 'probe-tool'), 0o755);
  spawnSync('sh', ['-c', script], {
    cwd: dir,
    env: { PATH: `${bin}:/usr/bin:/bin`, MARKER: join(dir, 'pwned') },
    encoding: 'utf8',
  });
  const calls: string[][] = [];
  for (let i = 0; existsSync(join(dir, 'calls', String(i))); i++)
    calls.push(
      readFileSync(join(dir, 'calls', String(i)), 'utf8')
        .split('\0')
        .slice(0, -1),
    );
  return { calls, marker: existsSync(join(dir, 'pwned')) || existsSync(join(dir, 'pwned2')) };
}

const PAYLOADS = [
  `o'penstack`,
  'o$(touch "$MARKER")',
  'o`touch "$MARKER"`',
  'o; touch "$MARKER"',
  `o" ; touch "$MARKER"; "`,
  `o' ; touch pwned2; '`,
  'o|touch pwned2',
  'o&&touch pwned2',
  'o>pwned2',
  '$MARKER',
  '--help',
  '*',
];

describe('values never become code', () => {
  it.each(PAYLOADS)(
    '%j in an attribute reaches the program as one literal argument from a guard (plan runs it), a command, $( ), a check and a shell file',
    (payload) => {
      const dir = mkdtempSync(join(tmpdir(), 'inject-'));
      const { loaded } = withAttributes(dir, { probe: { value: payload } });
      expect(loaded.diagnostics.map((d) => formatDiagnostic(d))).toEqual([]);
      const scripts = rendered(loaded);
      const seen = (name: keyof typeof scripts) => runWithStubs(join(dir, name), scripts[name]);
      const guard = seen('guard');
      expect(guard).toEqual({ calls: [['guard', payload]], marker: false });
      expect(seen('run')).toEqual({
        calls: [
          ['run', payload],
          ['sub', payload],
          ['inner', payload],
        ],
        marker: false,
      });
      expect(seen('check')).toEqual({ calls: [['check', payload]], marker: false });
      expect(seen('file')).toEqual({
        calls: [
          ['file', payload],
          ['variable', payload],
        ],
        marker: false,
      });
    },
  );

  it('a rabbitmq user with a quote is refused at validation: the attribute says which characters a user name has', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inject-'));
    const { loaded } = withAttributes(dir, { rabbitmq: { user: "o'penstack" } });
    expect(loaded.diagnostics.map((d) => formatDiagnostic(d)).join('\n')).toMatch(
      /rabbitmq\.user: "o'penstack" does not match/,
    );
  });

  it.each([
    ['a newline', 'openstack\ntouch /tmp/pwned'],
    ['NUL', 'open\u0000stack'],
    ['an escape', 'open\u001b[2Jstack'],
    ['a carriage return', 'open\rstack'],
  ])('%s in an attribute is refused at validation, with the place', (_what, payload) => {
    const dir = mkdtempSync(join(tmpdir(), 'inject-'));
    const { file, loaded } = withAttributes(dir, {
      probe: { value: payload },
      keystone: { config: { token: { expiration: payload } } },
    });
    expect(loaded.inventory).toBeUndefined();
    const problems = loaded.diagnostics.map((d) => formatDiagnostic(d));
    expect(
      problems.some(
        (p) => p.startsWith(`${file}:`) && /attributes\.probe\.value/.test(p) && /control character/.test(p),
      ),
      problems.join('\n'),
    ).toBe(true);
    expect(
      problems.some((p) => /config\.token\.expiration/.test(p) && /control character/.test(p)),
      problems.join('\n'),
    ).toBe(true);
  });

  it('node and network names that would need quoting are refused at validation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inject-'));
    const inventory = structuredClone(lab);
    inventory.nodes[0].name = 'cmp1;touch';
    inventory.networks["adm'in"] = inventory.networks.admin;
    const file = join(dir, 'inventory.yaml');
    writeFileSync(file, stringify(inventory));
    const loaded = loadInventory(file, { builtinBarclamps: join(REPO, 'barclamps'), home: '/root' });
    expect(loaded.inventory).toBeUndefined();
    const problems = loaded.diagnostics.map((d) => formatDiagnostic(d)).join('\n');
    expect(problems).toContain("'cmp1;touch'");
    expect(problems).toContain("adm'in");
  });

  it('every piece of shell code the reference renders is valid sh (sh -n), so the quoting rules left no template broken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inject-'));
    const { loaded } = withAttributes(dir, {});
    const inventory = loaded.inventory!;
    const secrets = Object.fromEntries(
      declaredSecrets(inventory, loaded.catalog.barclamps).map(({ key }) => [key, "it's-secret"]),
    );
    for (const n of inventory.nodes) secrets[`bmc_fence.${n.name}`] = 'fence"password';
    const result = computeDesired({
      inventory,
      barclamps: loaded.catalog.barclamps,
      secrets,
      sharedTemplates: join(REPO, 'barclamps', '_shared'),
    });
    if (!result.ok) throw new Error(result.diagnostics.map((d) => formatDiagnostic(d)).join('\n'));
    const scripts = result.desired.nodes.flatMap((n) =>
      n.batches.flatMap((b) => [
        ...b.resources.flatMap((r) =>
          r.type === 'command'
            ? [[r.id, r.run], ...(r.unless ? [[`${r.id} (unless)`, r.unless]] : [])]
            : r.type === 'file' && /^#!\/bin\/(ba)?sh/.test(r.content)
              ? [[r.id, r.content]]
              : [],
        ),
        ...b.checks.flatMap((c) => (c.type === 'command' ? [[c.id, c.run]] : [])),
      ]),
    );
    expect(scripts.length).toBeGreaterThan(60);
    const broken = scripts
      .filter(([, script]) => spawnSync('sh', ['-n'], { input: script }).status !== 0)
      .map(([id]) => id);
    expect(broken).toEqual([]);
  });

  it('a template that puts a value inside quotes, a here-document or raw output in shell code is refused: quoting cannot work there', () => {
    expect(shellTemplateProblems(`grep -q '<%= attributes.user %>' f`)[0]?.problem).toMatch(/inside '…'/);
    expect(shellTemplateProblems(`echo "user <%= attributes.user %>"`)[0]?.problem).toMatch(/inside "…"/);
    expect(shellTemplateProblems('cat <<EOF\n<%= attributes.user %>\nEOF\n')[0]?.problem).toMatch(/here-document/);
    expect(shellTemplateProblems('x=<%- attributes.user %>')[0]?.problem).toMatch(/raw output/);
    // where it works: a word of its own, next to quoted text, inside $( ) and after a here-document ended
    expect(
      shellTemplateProblems(
        `# it's fine in a comment\nx=<%= a %> && echo "$(id <%= a %>)" 'a'<%= b %>'c'\npython3 - <<'EOF'\nprint('x')\nEOF\ny=<%= c %>\n`,
      ),
    ).toEqual([]);
  });
});
