import { readFileSync } from 'node:fs';
import { pinsForNode } from '../inventory/pinned-packages.js';
import { join } from 'node:path';
import type { Diagnostic } from '../core/diagnostic.js';
import { dependencyOrder } from '../barclamp/graph.js';
import {
  fileTemplateLanguage,
  renderAttributes,
  renderTemplate,
  TemplateError,
  type CompiledTemplates,
  type TemplateContext,
  type TemplateLanguage,
  type TemplateNode,
} from '../barclamp/render.js';
import type { Barclamp, CheckSpec, ResourceSpec } from '../barclamp/types.js';
import { resourceKey } from '../barclamp/manifest.js';
import type { Inventory, NodeSpec } from '../inventory/types.js';
import type { Secrets } from '../secrets/secret-store.js';
import { fenceLoginOf } from '../secrets/fence-secrets.js';
import { secretSpellings } from '../failures/record.js';
import type { Batch, DesiredCheck, DesiredResource, DesiredState, NodeBatch } from './desired-types.js';

export interface DesiredInput {
  inventory: Inventory;
  barclamps: ReadonlyMap<string, Barclamp>;
  secrets: Secrets;
  /** Shared partials (`barclamps/_shared/`), searched after the barclamp's own templates. */
  sharedTemplates: string;
  /** Optional check suites to include (`verify --suite smoke`); checks of other suites are left out. */
  checkSuites?: readonly string[];
}

export type DesiredResult = { ok: true; desired: DesiredState } | { ok: false; diagnostics: Diagnostic[] };

/** Barclamps the inventory deploys, in dependency order. */
export function deployedBarclamps(inventory: Inventory, barclamps: ReadonlyMap<string, Barclamp>): string[] {
  const wanted = new Set(
    Object.values(inventory.roles)
      .flat()
      .map((r) => r.barclamp),
  );
  const order = dependencyOrder(wanted, barclamps);
  if (!order.ok) throw new Error('inventory was validated, so barclamp order must resolve');
  return order.order;
}

/** The `barclamp/role` references a node holds through its inventory roles. */
export function barclampRolesOf(inventory: Inventory, node: NodeSpec): Set<string> {
  return new Set(node.roles.flatMap((role) => (inventory.roles[role] ?? []).map((r) => `${r.barclamp}/${r.role}`)));
}

/** Secrets every deployed barclamp declares, as `barclamp.name` keys. */
export function declaredSecrets(
  inventory: Inventory,
  barclamps: ReadonlyMap<string, Barclamp>,
): { key: string; length: number }[] {
  return deployedBarclamps(inventory, barclamps).flatMap((name) =>
    Object.entries(barclamps.get(name)!.secrets).map(([secret, spec]) => ({
      key: `${name}.${secret}`,
      length: spec.length,
    })),
  );
}

/**
 * Renders every template and resource for every node. Pure apart from reading template files,
 * and deterministic: the same inputs give byte-identical output.
 */
export function computeDesired(input: DesiredInput): DesiredResult {
  const { inventory, barclamps } = input;
  const order = deployedBarclamps(inventory, barclamps);
  const deployed = new Set(order);
  const nodeRefs = new Map(inventory.nodes.map((n) => [n.name, barclampRolesOf(inventory, n)]));
  const templateNodes = inventory.nodes.map((n): TemplateNode => {
    const fence = fenceLoginOf(inventory, n);
    return {
      name: n.name,
      address: n.ssh.address,
      addresses: { ...n.addresses },
      roles: [...n.roles],
      barclampRoles: [...nodeRefs.get(n.name)!].sort(),
      maintenance: n.maintenance === true,
      pins: pinsForNode(inventory.pinnedPackages, n.name),
      ...(n.bmc && fence ? { bmc: { address: n.bmc.address, fence_username: fence.username } } : {}),
    };
  });
  // asked by templates on every node: answered once per role reference, else rendering grows with nodes²
  const holders = new Map<string, TemplateNode[]>();
  const nodesWith = (ref: string) => {
    let found = holders.get(ref);
    if (!found) holders.set(ref, (found = templateNodes.filter((n) => n.barclampRoles.includes(ref))));
    return [...found];
  };

  const batches: Batch[] = [];
  for (const barclampName of order) {
    const roles = Object.values(barclamps.get(barclampName)!.roles).sort(
      (a, b) => a.order - b.order || a.name.localeCompare(b.name),
    );
    for (const role of roles) {
      if (inventory.nodes.some((n) => nodeRefs.get(n.name)!.has(`${barclampName}/${role.name}`)))
        batches.push({ index: batches.length, barclamp: barclampName, role: role.name });
    }
  }

  const diagnostics: Diagnostic[] = [];
  // every spelling a rendered file or command can hold, so that whatever holds one is marked sensitive
  const secretValues = Object.values(input.secrets)
    .filter((v) => v.length > 0)
    .flatMap(secretSpellings);
  // every rendered text is searched for every secret: a text shared by many nodes is searched once
  const seenTexts = new Map<string, boolean>();
  const holdsSecret = (text: string) => {
    let verdict = seenTexts.get(text);
    if (verdict === undefined) seenTexts.set(text, (verdict = secretValues.some((s) => text.includes(s))));
    return verdict;
  };
  const templateCache = new Map<string, { text: string; file: string }>();
  const compiled: CompiledTemplates = new Map();
  const sameOnEveryNode = new SharedRenders();
  const nodes = inventory.nodes.map((node, nodeIndex) => {
    const nodeBatches: NodeBatch[] = [];
    const claimed = new Map<string, string>();
    for (const batch of batches) {
      if (!nodeRefs.get(node.name)!.has(`${batch.barclamp}/${batch.role}`)) continue;
      const barclamp = barclamps.get(batch.barclamp)!;
      const context: TemplateContext = {
        deployment: inventory.deployment,
        release: inventory.release,
        node: templateNodes[nodeIndex]!,
        nodes: templateNodes,
        networks: inventory.networks as Record<string, unknown>,
        attributes: effectiveAttributes(barclamp, inventory, node),
        secrets: visibleSecrets(barclamp.name, input.secrets),
        nodesWith,
        attributesOf: (name: string) => {
          const other = barclamps.get(name);
          if (!other || !deployed.has(name))
            throw new ReferenceError(
              `attributesOf('${name}'): barclamp ${name} is not deployed (add it to requires and to a role)`,
            );
          return renderAttributes(effectiveAttributes(other, inventory));
        },
      };
      let attributesKey: string | undefined;
      const render = (text: string, file: string, what: string, language: TemplateLanguage): string | undefined => {
        try {
          const shared = sameOnEveryNode.nodeBlind(text)
            ? `${language}\u0000${barclamp.name}\u0000${file}\u0000${(attributesKey ??= JSON.stringify(context.attributes))}`
            : undefined;
          if (shared !== undefined) {
            const earlier = sameOnEveryNode.get(text, shared);
            if (earlier !== undefined) return earlier;
          }
          const output = renderTemplate(text, file, what, context, [input.sharedTemplates], compiled, language);
          if (shared !== undefined) sameOnEveryNode.set(text, shared, output);
          return output;
        } catch (error) {
          if (!(error instanceof TemplateError)) throw error;
          diagnostics.push({
            ...error.diagnostic,
            summary: `${error.diagnostic.summary} (barclamp ${barclamp.name}, node ${node.name})`,
          });
          return undefined;
        }
      };
      const prefix = `${batch.barclamp}/${batch.role}`;
      const resources: DesiredResource[] = [];
      for (const spec of barclamp.roles[batch.role]!.resources) {
        let resource: DesiredResource | undefined;
        try {
          resource = renderResource(spec, prefix, barclamp, input.sharedTemplates, templateCache, render, holdsSecret);
        } catch (error) {
          if (!(error instanceof TemplateError)) throw error;
          diagnostics.push(error.diagnostic);
        }
        if (!resource) continue;
        const key = resourceKey(spec);
        const owner = claimed.get(key);
        if (owner !== undefined && spec.type !== 'package' && spec.type !== 'service') {
          diagnostics.push({
            severity: 'error',
            code: 'plan.resource-conflict',
            location: { file: barclamp.manifestFile, line: 1, col: 1 },
            summary: `${key} on node ${node.name} is managed by both ${owner} and ${prefix}`,
            suggestion: 'let exactly one barclamp role manage each file or command',
          });
        }
        claimed.set(key, prefix);
        resources.push(resource);
      }
      const checks = barclamp.roles[batch.role]!.checks.filter(
        (c) => c.type !== 'command' || c.suite === undefined || (input.checkSuites ?? []).includes(c.suite),
      )
        .map((c) => renderCheck(c, prefix, node, barclamp, render, holdsSecret))
        .filter((c): c is DesiredCheck => c !== undefined);
      nodeBatches.push({ batch: batch.index, resources, checks });
    }
    return { node: node.name, batches: nodeBatches };
  });
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  return { ok: true, desired: { deployment: inventory.deployment, batches, nodes } };
}

type Render = (text: string, file: string, what: string, language: TemplateLanguage) => string | undefined;

/**
 * Everything a template sees is the same on every node except `node` and the node's attributes. A template
 * that cannot reach `node` — never names it, nor `locals`/`arguments` (the locals object), `eval` (the
 * scope) or `include` (another template that might) — renders the same for equal attributes. /etc/hosts
 * is such a template: rendering its n lines on each of n nodes, and hashing n copies, made planning grow
 * with nodes² (10,000 nodes: 28 s rendering, 37 s planning). Conservative on purpose: a mention of the
 * word in plain text or a property called `node` only costs the sharing.
 */
const NODE_REACH = /\b(?:node|locals|arguments|eval|include)\b/;

/**
 * Outputs of node-blind templates by template text, then barclamp, file and attributes. The text is the
 * outer key: it is the same string object on every node, so a lookup does not hash or scan it again.
 */
class SharedRenders {
  private readonly byText = new Map<string, Map<string, string>>();
  private readonly blind = new Map<string, boolean>();

  nodeBlind(text: string): boolean {
    let verdict = this.blind.get(text);
    if (verdict === undefined) this.blind.set(text, (verdict = !NODE_REACH.test(text)));
    return verdict;
  }

  get(text: string, key: string): string | undefined {
    return this.byText.get(text)?.get(key);
  }

  set(text: string, key: string, output: string): void {
    let outputs = this.byText.get(text);
    if (!outputs) this.byText.set(text, (outputs = new Map()));
    outputs.set(key, output);
  }
}

function renderResource(
  spec: ResourceSpec,
  prefix: string,
  barclamp: Barclamp,
  sharedTemplates: string,
  cache: Map<string, { text: string; file: string }>,
  render: Render,
  containsSecret: (text: string) => boolean,
): DesiredResource | undefined {
  const id = `${prefix}:${resourceKey(spec)}`;
  switch (spec.type) {
    case 'package':
      return { type: 'package', id, names: [...spec.names] };
    case 'directory':
      return { type: 'directory', id, path: spec.path, mode: spec.mode, owner: spec.owner, group: spec.group };
    case 'service':
      return { type: 'service', id, name: spec.name, enabled: spec.enabled, started: spec.started };
    case 'file': {
      const source =
        spec.template !== undefined
          ? loadTemplate(spec.template, barclamp, sharedTemplates, cache)
          : { text: spec.content!, file: barclamp.manifestFile };
      const content = render(
        source.text,
        source.file,
        `file ${spec.path}`,
        spec.template !== undefined ? fileTemplateLanguage(spec.template) : 'text',
      );
      if (content === undefined) return undefined;
      return {
        type: 'file',
        id,
        path: spec.path,
        content,
        mode: spec.mode,
        owner: spec.owner,
        group: spec.group,
        notify: [...spec.notify],
        sensitive: spec.sensitive || containsSecret(content),
      };
    }
    case 'command': {
      const run = render(spec.run, barclamp.manifestFile, `command ${spec.name}`, 'shell');
      const unless =
        spec.unless !== undefined
          ? render(spec.unless, barclamp.manifestFile, `command ${spec.name} (unless)`, 'shell')
          : undefined;
      if (run === undefined || (spec.unless !== undefined && unless === undefined)) return undefined;
      return {
        type: 'command',
        id,
        name: spec.name,
        run,
        ...(spec.creates !== undefined ? { creates: spec.creates } : {}),
        ...(unless !== undefined ? { unless } : {}),
        timeoutSeconds: spec.timeoutSeconds,
        retries: spec.retries,
        notify: [...spec.notify],
        ...(spec.watch.length > 0 ? { watch: [...spec.watch] } : {}),
        sensitive: containsSecret(run) || (unless !== undefined && containsSecret(unless)),
      };
    }
  }
}

function renderCheck(
  spec: CheckSpec,
  prefix: string,
  node: NodeSpec,
  barclamp: Barclamp,
  render: Render,
  containsSecret: (text: string) => boolean,
): DesiredCheck | undefined {
  const id = `${prefix}:check:${spec.name}`;
  switch (spec.type) {
    case 'tcp': {
      const host =
        spec.host !== undefined
          ? render(spec.host, barclamp.manifestFile, `check ${spec.name}`, 'text')
          : node.ssh.address;
      return host === undefined
        ? undefined
        : { type: 'tcp', id, name: spec.name, host, port: spec.port, timeoutSeconds: spec.timeoutSeconds };
    }
    case 'http': {
      const url = render(spec.url, barclamp.manifestFile, `check ${spec.name}`, 'text');
      return url === undefined
        ? undefined
        : { type: 'http', id, name: spec.name, url, status: spec.status, timeoutSeconds: spec.timeoutSeconds };
    }
    case 'command': {
      const run = render(spec.run, barclamp.manifestFile, `check ${spec.name}`, 'shell');
      return run === undefined
        ? undefined
        : {
            type: 'command',
            id,
            name: spec.name,
            run,
            timeoutSeconds: spec.timeoutSeconds,
            poll: spec.poll,
            sensitive: containsSecret(run),
            ...(spec.health ? { health: true as const } : {}),
          };
    }
  }
}

function loadTemplate(
  name: string,
  barclamp: Barclamp,
  sharedTemplates: string,
  cache: Map<string, { text: string; file: string }>,
): { text: string; file: string } {
  for (const file of [join(barclamp.dir, 'templates', name), join(sharedTemplates, name)]) {
    const cached = cache.get(file);
    if (cached) return cached;
    try {
      const entry = { text: readFileSync(file, 'utf8'), file };
      cache.set(file, entry);
      return entry;
    } catch {
      // try the next location
    }
  }
  throw new TemplateError({
    severity: 'error',
    code: 'template.missing',
    location: { file: barclamp.manifestFile, ...mentionOf(barclamp.manifestFile, name) },
    summary: `template '${name}' not found in ${barclamp.name}/templates or barclamps/_shared/`,
    suggestion: 'check the file name in the file resource',
  });
}

export function effectiveAttributes(
  barclamp: Barclamp,
  inventory: Inventory,
  node?: NodeSpec,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(barclamp.attributes))
    if (spec.default !== undefined) out[key] = spec.default;
  Object.assign(out, inventory.attributes[barclamp.name] ?? {}, node?.attributes[barclamp.name] ?? {});
  return out;
}

function visibleSecrets(barclamp: string, secrets: Secrets): Record<string, string> {
  const own = Object.entries(secrets)
    .filter(([k]) => k.startsWith(`${barclamp}.`))
    .map(([k, v]) => [k.slice(barclamp.length + 1), v] as const);
  return Object.fromEntries([...Object.entries(secrets), ...own]);
}

/** Where the manifest names `text` (its first mention), for a location the operator can jump to. */
function mentionOf(file: string, text: string): { line: number; col: number } {
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    const index = lines.findIndex((l) => l.includes(text));
    if (index >= 0) return { line: index + 1, col: lines[index]!.indexOf(text) + 1 };
  } catch {
    // unreadable now: fall back to the top of the file
  }
  return { line: 1, col: 1 };
}
