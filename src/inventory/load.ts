import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { hasErrors, sortDiagnostics, type Diagnostic } from '../core/diagnostic.js';
import { checkSchema } from '../core/schema.js';
import { loadCatalog, type Catalog } from '../barclamp/catalog.js';
import { normalizeMac } from '../util/ipv4.js';
import { parseYaml } from '../core/yaml-source.js';
import { readPinnedPackages } from './pinned-packages.js';
import { inventorySchema } from './schema.js';
import { semanticChecks } from './semantic-checks.js';
import type { Inventory, Network, NodeSpec, SecretSource, SshSettings } from './types.js';

export interface LoadedInventory {
  inventory?: Inventory;
  catalog: Catalog;
  diagnostics: Diagnostic[];
}

export interface LoadOptions {
  /** The tool's own barclamps directory (searched after the inventory's barclamp_paths). */
  builtinBarclamps: string;
  /** Home directory, for `~/` in key paths. */
  home: string;
}

/** Reads, validates and normalises an inventory. Collects every problem; `inventory` is set only when there are none. */
export function loadInventory(file: string, options: LoadOptions): LoadedInventory {
  const absolute = resolve(file);
  const emptyCatalog: Catalog = { barclamps: new Map(), broken: new Set(), diagnostics: [] };
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      catalog: emptyCatalog,
      diagnostics: [
        {
          severity: 'error',
          code: 'inventory.unreadable',
          location: { file, line: 1, col: 1 },
          summary: code === 'ENOENT' ? 'inventory file does not exist' : `cannot read inventory (${code})`,
          suggestion: 'check the path; inventory/lab.yaml is the embedded example',
        },
      ],
    };
  }
  const parsed = parseYaml(file, bytes, 'inventory');
  if (!parsed.ok) return { catalog: emptyCatalog, diagnostics: parsed.diagnostics };
  const source = parsed.source;
  const raw = source.value as Record<string, any>;
  const baseDir = dirname(absolute);

  const diagnostics: Diagnostic[] = [];
  checkSchema({ source, codePrefix: 'inventory', diagnostics }, inventorySchema, raw, []);
  const extraPaths = Array.isArray(raw?.barclamp_paths)
    ? raw.barclamp_paths.filter((p: unknown) => typeof p === 'string').map((p: string) => resolve(baseDir, p))
    : [];
  const catalog = loadCatalog([...extraPaths, options.builtinBarclamps]);
  diagnostics.push(...catalog.diagnostics);
  diagnostics.push(...semanticChecks(source, catalog.barclamps, catalog.broken));
  const pinned = typeof raw?.bom?.pin === 'string' ? readPinnedPackages(resolve(baseDir, raw.bom.pin)) : undefined;
  if (pinned && 'problem' in pinned)
    diagnostics.push({
      severity: 'error',
      code: 'inventory.bom.pin',
      location: source.locate(['bom', 'pin'], 'value'),
      path: 'bom.pin',
      summary: `the bill of materials ${raw.bom.pin} ${pinned.problem}`,
      suggestion:
        "pin a bill an apply recorded: `bootstrap bom INVENTORY --run ID --json > known-good.json`, or a run directory's bom.json",
    });
  const sorted = sortDiagnostics(diagnostics);
  if (hasErrors(sorted)) return { catalog, diagnostics: sorted };
  const inventory = normalize(raw, absolute, extraPaths, options.home);
  if (pinned && 'pins' in pinned) inventory.pinnedPackages = pinned.pins;
  return { inventory, catalog, diagnostics: sorted };
}

function normalize(raw: Record<string, any>, file: string, barclampPaths: string[], home: string): Inventory {
  const baseDir = dirname(file);
  const resolvePath = (p: string) =>
    p.startsWith('~/') ? resolve(home, p.slice(2)) : isAbsolute(p) ? p : resolve(baseDir, p);
  const resolveSecret = (s: SecretSource | undefined): SecretSource | undefined =>
    s && 'file' in s ? { file: resolvePath(s.file) } : s;
  const sshDefaults: SshSettings = {
    user: raw.ssh?.user ?? 'root',
    port: raw.ssh?.port ?? 22,
    ...(raw.ssh?.key !== undefined ? { key: resolvePath(raw.ssh.key) } : {}),
    connectTimeoutMs: (raw.ssh?.connect_timeout ?? 10) * 1000,
  };
  const nodes: NodeSpec[] = (raw.nodes as Record<string, any>[]).map((n) => {
    const addresses: Record<string, string> = n.addresses ?? {};
    const key = n.ssh?.key !== undefined ? resolvePath(n.ssh.key) : sshDefaults.key;
    const bmcPassword = resolveSecret(n.bmc?.password);
    return {
      name: n.name,
      macs: (n.macs ?? []).map((m: string) => normalizeMac(m)!),
      addresses,
      ...(n.bmc
        ? {
            bmc: {
              address: n.bmc.address,
              ...(n.bmc.username !== undefined ? { username: n.bmc.username } : {}),
              ...(bmcPassword ? { password: bmcPassword } : {}),
            },
          }
        : {}),
      ssh: {
        address: n.ssh?.address ?? addresses.admin!,
        user: n.ssh?.user ?? sshDefaults.user,
        port: n.ssh?.port ?? sshDefaults.port,
        ...(key !== undefined ? { key } : {}),
        connectTimeoutMs:
          n.ssh?.connect_timeout !== undefined ? n.ssh.connect_timeout * 1000 : sshDefaults.connectTimeoutMs,
      },
      roles: n.roles,
      attributes: n.attributes ?? {},
      ...(n.maintenance === true ? { maintenance: true } : {}),
      ...(n.install
        ? {
            install: {
              rootDevice: {
                ...(n.install.root_device?.name !== undefined ? { name: n.install.root_device.name } : {}),
                ...(n.install.root_device?.serial !== undefined ? { serial: n.install.root_device.serial } : {}),
                ...(n.install.root_device?.min_size_gib !== undefined
                  ? { minSizeGiB: n.install.root_device.min_size_gib }
                  : {}),
              },
              wipe: n.install.wipe === true,
            },
          }
        : {}),
    };
  });
  const bmcPassword = resolveSecret(raw.bmc?.password);
  return {
    file,
    deployment: raw.deployment,
    release: raw.release,
    os: raw.os,
    networks: Object.fromEntries(
      Object.entries<Record<string, any>>(raw.networks).map(([name, n]) => [name, { name, ...n } as Network]),
    ),
    bmc: {
      ...(raw.bmc?.username !== undefined ? { username: raw.bmc.username } : {}),
      ...(bmcPassword ? { password: bmcPassword } : {}),
      ...(raw.bmc?.cipher_suites ? { cipherSuites: raw.bmc.cipher_suites } : {}),
      ...(raw.bmc?.fence
        ? { fence: { username: raw.bmc.fence.username, password: resolveSecret(raw.bmc.fence.password)! } }
        : {}),
    },
    ssh: sshDefaults,
    nodes: [...nodes].sort((a, b) => a.name.localeCompare(b.name)),
    roles: Object.fromEntries(
      Object.entries<string[]>(raw.roles).map(([role, refs]) => [
        role,
        refs.map((r) => {
          const [barclamp, name] = r.split('/') as [string, string];
          return { barclamp, role: name };
        }),
      ]),
    ),
    attributes: raw.attributes ?? {},
    barclampPaths,
    lab: raw.lab,
  };
}
