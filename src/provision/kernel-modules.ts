/**
 * The modules a kernel module needs loaded first, read from its `.modinfo` section (`depends=a,b`).
 * Reading the bytes avoids needing kmod's modinfo/depmod on the admin node.
 */
export function moduleDepends(ko: Buffer): string[] {
  const marker = Buffer.from('\0depends=');
  const at = ko.indexOf(marker);
  if (at < 0) return [];
  const start = at + marker.length;
  const end = ko.indexOf(0, start);
  const list = ko.subarray(start, end < 0 ? undefined : end).toString('latin1');
  return list
    .split(',')
    .filter(Boolean)
    .map((name) => name.replace(/-/g, '_'));
}

/** Every module `wanted` needs, dependencies first (insmod order); unknown names are reported. */
export function moduleLoadOrder(
  wanted: readonly string[],
  dependsOf: (name: string) => string[] | undefined,
): { order: string[]; missing: string[] } {
  const order: string[] = [];
  const missing: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name) || missing.includes(name) || visiting.has(name)) return;
    const depends = dependsOf(name);
    if (depends === undefined) {
      missing.push(name);
      return;
    }
    visiting.add(name);
    for (const dependency of depends) visit(dependency);
    visiting.delete(name);
    order.push(name);
  };
  for (const name of wanted) visit(name);
  return { order, missing };
}
