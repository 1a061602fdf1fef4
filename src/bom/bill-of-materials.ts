/**
 * A bill of materials: per node, every Debian package installed and its exact version, as dpkg reported it
 * at the end of an apply. Two runs compared package by package say what changed between them.
 */
export interface BillOfMaterials {
  format: 'bootstrap-bom/1';
  runId: string;
  /** node → package (with :arch when not the native one) → version */
  nodes: Record<string, Record<string, string>>;
}

export interface BomChange {
  node: string;
  package: string;
  before?: string;
  after?: string;
}

/** What asks dpkg for every installed package, one `name version` a line (read-only). */
export const INSTALLED_PACKAGES_SCRIPT =
  "dpkg-query -W -f '${db:Status-Abbrev} ${binary:Package} ${Version}\\n' | awk '$1 ~ /^.i/ { print $2, $3 }'";

/** The lines INSTALLED_PACKAGES_SCRIPT printed, as package → version; other lines are not packages. */
export function parseInstalledPackages(stdout: string): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([a-z0-9][a-z0-9+.-]*(?::[a-z0-9-]+)?) (\S+)$/.exec(line.trim());
    if (match) packages[match[1]!] = match[2]!;
  }
  return Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b)));
}

/** Every package whose version differs between two bills, added or removed included; nodes in either. */
export function bomChanges(before: BillOfMaterials, after: BillOfMaterials): BomChange[] {
  const changes: BomChange[] = [];
  for (const node of [...new Set([...Object.keys(before.nodes), ...Object.keys(after.nodes)])].sort()) {
    const a = before.nodes[node] ?? {};
    const b = after.nodes[node] ?? {};
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (a[name] === b[name]) continue;
      changes.push({
        node,
        package: name,
        ...(a[name] !== undefined ? { before: a[name] } : {}),
        ...(b[name] !== undefined ? { after: b[name] } : {}),
      });
    }
  }
  return changes;
}
