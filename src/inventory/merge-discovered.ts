import { isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq, type Document } from 'yaml';
import { normalizeMac, parseRange, formatIPv4, parseIPv4 } from '../util/ipv4.js';

/** A machine found by discovery that an inventory can describe: what the tool knows, nothing invented. */
export interface DiscoveredNode {
  /** Suggested name (FRU/SMBIOS serial, else the PXE MAC); users rename freely, matching is by MAC/BMC. */
  name: string;
  macs: string[];
  bmcAddress?: string;
  /** One line for the comment above the node: where it was seen and what it is. */
  summary: string;
}

export interface MergeResult {
  text: string;
  added: string[];
  /** Existing entries that gained a MAC or a BMC address. */
  updated: string[];
  unchanged: string[];
  /** New entries that could not get an admin address (static range exhausted): edit before applying. */
  needsAddress: string[];
}

/**
 * Merges discovered machines into inventory YAML text without touching what people wrote: comments, order,
 * names, roles and addresses of existing entries stay; an entry is recognised by its BMC address or any of
 * its MACs (so renaming a node keeps it matched). New entries get a free address from the admin network's
 * static range and no roles (deciding roles is the operator's job).
 */
export function mergeDiscovered(text: string, discovered: readonly DiscoveredNode[], stamp: string): MergeResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new Error(`cannot merge into a file that is not valid YAML: ${doc.errors[0]!.message}`);
  let nodes = doc.get('nodes');
  if (!isSeq(nodes)) {
    nodes = new YAMLSeq();
    doc.set('nodes', nodes);
  }
  const seq = nodes as YAMLSeq;
  const result: MergeResult = { text: '', added: [], updated: [], unchanged: [], needsAddress: [] };
  const freeAddress = addressAllocator(doc, seq);
  for (const machine of discovered) {
    const existing = seq.items.find((item) => isMap(item) && matches(item, machine));
    if (existing && isMap(existing)) {
      const name = String(existing.get('name'));
      (addMissing(doc, existing, machine) ? result.updated : result.unchanged).push(name);
      continue;
    }
    const name = uniqueName(seq, machine.name);
    const address = freeAddress();
    const entry = doc.createNode({
      name,
      ...(machine.macs.length > 0 ? { macs: machine.macs } : {}),
      ...(address ? { addresses: { admin: address } } : {}),
      ...(machine.bmcAddress ? { bmc: { address: machine.bmcAddress } } : {}),
      roles: [],
    }) as YAMLMap;
    entry.commentBefore = ` discovered ${stamp}: ${machine.summary}${address ? '' : ' — no free static admin address: add addresses.admin'}`;
    flowLeaves(entry);
    seq.items.push(entry);
    result.added.push(name);
    if (!address) result.needsAddress.push(name);
  }
  // nothing new: the file stays byte for byte what it was
  result.text =
    result.added.length + result.updated.length === 0
      ? text
      : doc.toString({ lineWidth: 0, flowCollectionPadding: false });
  return result;
}

function matches(entry: YAMLMap, machine: DiscoveredNode): boolean {
  const bmc = entry.getIn(['bmc', 'address']);
  if (machine.bmcAddress !== undefined && bmc === machine.bmcAddress) return true;
  const macs = macsOf(entry);
  return machine.macs.some((m) => macs.includes(normalizeMac(m) ?? m));
}

function macsOf(entry: YAMLMap): string[] {
  const macs = entry.get('macs');
  return isSeq(macs) ? macs.items.map((m) => normalizeMac(String(isScalar(m) ? m.value : m)) ?? '') : [];
}

/** Only adds: a MAC the entry lacks, a BMC address where it has none. Returns whether anything changed. */
function addMissing(doc: Document, entry: YAMLMap, machine: DiscoveredNode): boolean {
  let changed = false;
  const known = macsOf(entry);
  const newMacs = machine.macs.filter((m) => !known.includes(normalizeMac(m) ?? m));
  if (newMacs.length > 0) {
    const macs = entry.get('macs');
    if (isSeq(macs)) for (const m of newMacs) macs.items.push(doc.createNode(m));
    else entry.set('macs', doc.createNode(newMacs));
    changed = true;
  }
  if (machine.bmcAddress !== undefined && entry.getIn(['bmc', 'address']) === undefined) {
    entry.setIn(['bmc', 'address'], machine.bmcAddress);
    changed = true;
  }
  return changed;
}

function uniqueName(seq: YAMLSeq, wanted: string): string {
  const taken = new Set(seq.items.map((item) => (isMap(item) ? String(item.get('name')) : '')));
  if (!taken.has(wanted)) return wanted;
  for (let i = 2; ; i++) if (!taken.has(`${wanted}-${i}`)) return `${wanted}-${i}`;
}

/** Next address of networks.admin.static not used by any node (admin or BMC addresses). */
function addressAllocator(doc: Document, seq: YAMLSeq): () => string | undefined {
  const range = parseRange(String(doc.getIn(['networks', 'admin', 'static']) ?? ''));
  const used = new Set<number>();
  for (const item of seq.items) {
    if (!isMap(item)) continue;
    const addresses = item.get('addresses');
    if (isMap(addresses))
      for (const pair of addresses.items)
        used.add(parseIPv4(String(isScalar(pair.value) ? pair.value.value : pair.value)) ?? -1);
    used.add(parseIPv4(String(item.getIn(['ssh', 'address']) ?? '')) ?? -1);
  }
  let next = range?.start ?? 0;
  return () => {
    if (!range) return undefined;
    while (next <= range.end && used.has(next)) next++;
    if (next > range.end) return undefined;
    used.add(next);
    return formatIPv4(next++);
  };
}

/** Short lists (MACs, roles) and small maps (addresses, bmc) inline, like the hand-written entries. */
function flowLeaves(entry: YAMLMap): void {
  for (const pair of entry.items) {
    const value = pair.value;
    if (isSeq(value) || isMap(value)) (value as YAMLSeq | YAMLMap).flow = true;
  }
}
