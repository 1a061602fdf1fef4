import { packageLayout } from '../core/package-layout.js';
import { join, resolve } from 'node:path';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../core/diagnostic.js';
import { UserError } from '../core/user-error.js';
import type { Catalog } from '../barclamp/catalog.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { loadTaxonomy, type Taxonomy } from '../failures/taxonomy.js';
import { computeDesired, declaredSecrets } from '../plan/desired.js';
import type { DesiredState } from '../plan/desired-types.js';
import { desiredDigest } from '../plan/planner.js';
import { ensureSecrets, readSecrets, withMissingSecrets, type Secrets } from '../secrets/secret-store.js';
import { fenceSecrets } from '../secrets/fence-secrets.js';
import { KnownHosts } from '../transport/known-hosts.js';
import { SshTransport } from '../transport/ssh-transport.js';
import type { Transport } from '../transport/transport.js';
import type { Environment } from './environment.js';

/** An inventory opened for work: validated input, its state directory and the derived desired state. */
export interface Deployment {
  inventory: Inventory;
  catalog: Catalog;
  stateDir: string;
  taxonomy: Taxonomy;
  paths: { secrets: string; knownHosts: string; lock: string };
}

export function openDeployment(env: Environment, inventoryFile: string, stateDirOption?: string): Deployment {
  const loaded = loadInventory(resolve(env.cwd, inventoryFile), {
    builtinBarclamps: packageLayout(env.packageRoot).barclamps,
    home: env.home,
  });
  if (!loaded.inventory || hasErrors(loaded.diagnostics)) {
    throw new UserError('invalid-input', `${inventoryFile} is not valid`, loaded.diagnostics);
  }
  const inventory = loaded.inventory;
  const stateDir = resolve(
    env.cwd,
    stateDirOption ?? env.env.BOOTSTRAP_STATE_DIR ?? join('.bootstrap', inventory.deployment),
  );
  return {
    inventory,
    catalog: loaded.catalog,
    stateDir,
    taxonomy: loadTaxonomy(packageLayout(env.packageRoot).taxonomy),
    paths: {
      secrets: join(stateDir, 'secrets.json'),
      knownHosts: join(stateDir, 'known_hosts.json'),
      lock: join(stateDir, 'apply.lock'),
    },
  };
}

/**
 * The explicit secret step: generate what is missing (crypto-random, 0600), reuse the rest; add the fencing
 * passwords the inventory points at (never stored by the tool: they stay where the inventory keeps them).
 */
export function prepareSecrets(env: Environment, deployment: Deployment): { secrets: Secrets; generated: string[] } {
  const { secrets, generated } = ensureSecrets(
    deployment.paths.secrets,
    declaredSecrets(deployment.inventory, deployment.catalog.barclamps),
  );
  const fencing = fenceSecrets(deployment.inventory, env.env);
  if (fencing.unreadable.length > 0) {
    throw new UserError(
      'precondition',
      'the BMC fencing password cannot be read',
      fencing.unreadable.map((u) => ({
        severity: 'error' as const,
        code: 'secrets.fence-unreadable',
        summary: `bmc.fence.password for ${u.node}: ${u.reason}`,
        suggestion:
          "create the file (or set the variable) bmc.fence.password names in the inventory; `bootstrap lab up` creates the lab's",
      })),
    );
  }
  return { secrets: { ...secrets, ...fencing.secrets }, generated };
}

/**
 * Everything about the input that can be wrong, checked before anything is written anywhere (state
 * directory, lock, lab, nodes): --limit names real nodes, every template renders (with the secrets that
 * exist, and throw-away values for those not generated yet) and the pinned host keys can be read. Throws a UserError.
 */
export function preflight(env: Environment, deployment: Deployment, limit: readonly string[] | undefined): void {
  selectNodes(deployment, limit);
  desiredState(env, deployment, readOnlySecrets(env, deployment));
  // the pinned host keys must be readable before any run starts (a damaged file never means "trust anyone")
  new KnownHosts(deployment.paths.knownHosts);
}

/**
 * The secrets to render with when nothing may be written: the stored ones, throw-away values for those not
 * generated yet, and placeholders for fencing passwords (a lab's exists only once the lab is up).
 */
export function readOnlySecrets(env: Environment, deployment: Deployment): Secrets {
  const { secrets } = withMissingSecrets(
    deployment.paths.secrets,
    declaredSecrets(deployment.inventory, deployment.catalog.barclamps),
  );
  return { ...secrets, ...fenceSecrets(deployment.inventory, env.env, 'not-read-yet').secrets };
}

export function existingSecrets(deployment: Deployment): Secrets {
  return readSecrets(deployment.paths.secrets);
}

export function desiredState(
  env: Environment,
  deployment: Deployment,
  secrets: Secrets,
  checkSuites: readonly string[] = [],
): { desired: DesiredState; inputDigest: string } {
  const result = computeDesired({
    inventory: deployment.inventory,
    barclamps: deployment.catalog.barclamps,
    secrets,
    sharedTemplates: packageLayout(env.packageRoot).sharedTemplates,
    checkSuites,
  });
  if (!result.ok)
    throw new UserError(
      'invalid-input',
      'barclamp templates could not be rendered',
      uniqueDiagnostics(result.diagnostics),
    );
  return { desired: result.desired, inputDigest: desiredDigest(result.desired) };
}

/** The same problem met once per node (a missing template) is reported once. */
function uniqueDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = formatDiagnostic(d);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The nodes a run works on: the inventory's (or --limit's), except those the inventory has in maintenance. */
export function selectNodes(deployment: Deployment, limit: readonly string[] | undefined): string[] {
  const all = deployment.inventory.nodes.map((n) => n.name);
  const inMaintenance = maintenanceNodes(deployment);
  if (!limit || limit.length === 0) return all.filter((n) => !inMaintenance.has(n));
  const unknown = limit.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    throw new UserError('invalid-input', `unknown node(s) in --limit: ${unknown.join(', ')}`, [
      {
        severity: 'error',
        code: 'cli.unknown-node',
        summary: `--limit names unknown node(s): ${unknown.join(', ')}`,
        suggestion: `nodes in this inventory: ${all.join(', ')}`,
      },
    ]);
  }
  const resting = limit.filter((n) => inMaintenance.has(n));
  if (resting.length > 0) {
    throw new UserError('invalid-input', `node(s) in maintenance: ${resting.join(', ')}`, [
      {
        severity: 'error',
        code: 'cli.node-in-maintenance',
        summary: `--limit names node(s) the inventory has in maintenance: ${resting.join(', ')}`,
        suggestion:
          'runs leave a node in maintenance alone; remove its maintenance: true from the inventory to work on it again',
      },
    ]);
  }
  return all.filter((n) => limit.includes(n));
}

/** Nodes the inventory has taken out of service on purpose. */
export function maintenanceNodes(deployment: Deployment): Set<string> {
  return new Set(deployment.inventory.nodes.filter((n) => n.maintenance).map((n) => n.name));
}

export function sshTransports(deployment: Deployment, nodes: readonly string[]): Map<string, Transport> {
  const knownHosts = new KnownHosts(deployment.paths.knownHosts);
  const transports = new Map<string, Transport>();
  for (const node of deployment.inventory.nodes) {
    if (!nodes.includes(node.name)) continue;
    transports.set(
      node.name,
      new SshTransport(
        {
          node: node.name,
          address: node.ssh.address,
          port: node.ssh.port,
          user: node.ssh.user,
          ...(node.ssh.key !== undefined ? { keyFile: node.ssh.key } : {}),
          connectTimeoutMs: node.ssh.connectTimeoutMs,
        },
        knownHosts,
      ),
    );
  }
  return transports;
}
