import { readFileSync, statSync } from 'node:fs';

/**
 * A known-good bill of materials the inventory pins (`bom: { pin: FILE }`): the exact Debian package versions
 * an earlier apply recorded per node (`bootstrap bom --json`, or a run's bom.json). The base barclamp turns a
 * node's share into apt preferences, so a rebuild installs the same bits, and fails — naming the package — when
 * the mirror no longer has one.
 */
export interface PinnedPackages {
  file: string;
  /** node → package → version, as the bill recorded them. */
  nodes: Record<string, Record<string, string>>;
}

/** Debian package names (policy 5.6.1) as dpkg prints them; packages of a foreign architecture are not pinned. */
const PACKAGE = /^[a-z0-9][a-z0-9+.-]{0,127}(:[a-z0-9-]{1,32})?$/;
/** Debian versions (policy 5.6.12): what reaches the preferences file and the check's shell is only these. */
const VERSION = /^[A-Za-z0-9.+~:-]{1,128}$/;
const MAX_BYTES = 16 * 1024 * 1024;

/** The file's pins, or what is wrong with it (a sentence for the inventory's diagnostic). */
export function readPinnedPackages(file: string): { pins: PinnedPackages } | { problem: string } {
  let text: string;
  try {
    if (statSync(file).size > MAX_BYTES) return { problem: `is larger than ${MAX_BYTES / 1024 / 1024} MiB` };
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { problem: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` };
  }
  let bill: unknown;
  try {
    bill = JSON.parse(text);
  } catch {
    return { problem: 'is not JSON' };
  }
  const b = bill as { format?: unknown; nodes?: unknown };
  if (typeof bill !== 'object' || bill === null || b.format !== 'bootstrap-bom/1')
    return { problem: 'is not a bill of materials (format bootstrap-bom/1)' };
  if (typeof b.nodes !== 'object' || b.nodes === null || Array.isArray(b.nodes)) return { problem: 'has no nodes map' };
  const nodes: Record<string, Record<string, string>> = {};
  for (const [node, packages] of Object.entries(b.nodes as Record<string, unknown>)) {
    if (typeof packages !== 'object' || packages === null || Array.isArray(packages))
      return { problem: `node ${JSON.stringify(node)} has no package map` };
    const pinned: Record<string, string> = {};
    for (const [name, version] of Object.entries(packages as Record<string, unknown>)) {
      if (!PACKAGE.test(name)) return { problem: `node ${node}: ${JSON.stringify(name)} is not a Debian package name` };
      if (typeof version !== 'string' || !VERSION.test(version))
        return { problem: `node ${node}: package ${name} has no Debian version (${JSON.stringify(version)})` };
      // dpkg names Multi-Arch: same packages with their architecture; the nodes are amd64 (Debian 12, x86)
      const native = name.endsWith(':amd64') ? name.slice(0, -':amd64'.length) : name;
      if (!native.includes(':')) pinned[native] = version;
    }
    nodes[node] = pinned;
  }
  return { pins: { file, nodes } };
}

const NONE: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A node's pins: its own recorded versions, over every other node's (a node the bill does not name, a new
 * compute, gets the versions its peers run). Sorted by package name, so the rendered file is deterministic.
 */
export function pinsForNode(pins: PinnedPackages | undefined, node: string): Readonly<Record<string, string>> {
  if (!pins) return NONE;
  const merged: Record<string, string> = {};
  for (const name of Object.keys(pins.nodes).sort()) if (name !== node) Object.assign(merged, pins.nodes[name]);
  Object.assign(merged, pins.nodes[node] ?? {});
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
