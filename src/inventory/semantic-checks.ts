import { formatPath, type Diagnostic } from '../core/diagnostic.js';
import { isPlainObject } from '../core/schema.js';
import { attributeValueProblems } from '../barclamp/attribute-check.js';
import { dependencyOrder } from '../barclamp/graph.js';
import type { Barclamp } from '../barclamp/types.js';
import {
  cidrRange,
  contains,
  formatIPv4,
  normalizeMac,
  parseCidr,
  parseIPv4,
  parseRange,
  rangesOverlap,
  type AddressRange,
  type Cidr,
} from '../util/ipv4.js';
import { didYouMean } from '../util/suggest.js';
import type { YamlSource } from '../core/yaml-source.js';

type Raw = Record<string, any>;
type Path = (string | number)[];

/**
 * Cross-field checks that a schema cannot express: addresses inside their networks, overlaps,
 * duplicates, role references and counts, attribute values against barclamp schemas.
 * Runs on a document that may still have schema errors, so every access is guarded.
 */
export function semanticChecks(
  source: YamlSource,
  barclamps: ReadonlyMap<string, Barclamp>,
  broken: ReadonlySet<string> = new Set(),
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (path: Path, code: string, summary: string, suggestion?: string, target: 'key' | 'value' = 'value') =>
    out.push({
      severity: 'error',
      code: `inventory.${code}`,
      location: source.locate(path, target),
      path: formatPath(path),
      summary,
      ...(suggestion ? { suggestion } : {}),
    });
  const doc = isPlainObject(source.value) ? (source.value as Raw) : {};
  const networks = checkNetworks(doc, report);
  checkNodes(doc, networks, report);
  checkRolesAndAttributes(doc, barclamps, broken, report);
  return out;
}

type Report = (path: Path, code: string, summary: string, suggestion?: string, target?: 'key' | 'value') => void;

interface ParsedNetwork {
  cidr: Cidr;
  dhcp?: AddressRange;
  gateway?: number;
}

function checkNetworks(doc: Raw, report: Report): Map<string, ParsedNetwork> {
  const parsed = new Map<string, ParsedNetwork>();
  if (!isPlainObject(doc.networks)) return parsed;
  for (const [name, net] of Object.entries(doc.networks as Record<string, Raw>)) {
    if (!isPlainObject(net) || typeof net.cidr !== 'string') continue;
    const cidr = parseCidr(net.cidr);
    if (!cidr) continue;
    const base: Path = ['networks', name];
    for (const [otherName, other] of parsed) {
      if (rangesOverlap(cidrRange(cidr), cidrRange(other.cidr))) {
        report(
          [...base, 'cidr'],
          'network-overlap',
          `network '${name}' (${cidr.text}) overlaps network '${otherName}' (${other.cidr.text})`,
          'give each network its own address space',
        );
      }
    }
    if (typeof net.gateway === 'string') {
      const gw = parseIPv4(net.gateway);
      if (gw !== undefined && !contains(cidr, gw))
        report([...base, 'gateway'], 'address-outside-network', `gateway ${net.gateway} is outside ${cidr.text}`);
    }
    const ranges: Partial<Record<'dhcp' | 'static', AddressRange>> = {};
    for (const kind of ['dhcp', 'static'] as const) {
      if (typeof net[kind] !== 'string') continue;
      const range = parseRange(net[kind]);
      if (!range) continue;
      const { start, end } = cidrRange(cidr);
      if (range.start < start || range.end > end) {
        report(
          [...base, kind],
          'range-outside-network',
          `${kind} range ${net[kind]} is not inside ${cidr.text}`,
          `use addresses between ${formatIPv4(start + 1)} and ${formatIPv4(end - 1)}`,
        );
      }
      ranges[kind] = range;
    }
    if (ranges.dhcp && ranges.static && rangesOverlap(ranges.dhcp, ranges.static)) {
      report(
        [...base, 'static'],
        'range-overlap',
        `static range ${net.static} overlaps dhcp range ${net.dhcp}`,
        'static addresses must not be handed out by DHCP: make the ranges disjoint',
      );
    }
    const gateway = typeof net.gateway === 'string' ? parseIPv4(net.gateway) : undefined;
    parsed.set(name, {
      cidr,
      ...(ranges.dhcp ? { dhcp: ranges.dhcp } : {}),
      ...(gateway !== undefined ? { gateway } : {}),
    });
  }
  return parsed;
}

function checkNodes(doc: Raw, networks: Map<string, ParsedNetwork>, report: Report): void {
  if (!Array.isArray(doc.nodes)) return;
  const names = new Map<string, number>();
  const macs = new Map<string, string>();
  const addresses = new Map<string, string>();
  const claim = (owners: Map<string, string>, key: string, owner: string, path: Path, code: string, what: string) => {
    const previous = owners.get(key);
    if (previous !== undefined)
      report(path, code, `${what} is also used by ${previous}`, 'every node needs its own value');
    else owners.set(key, owner);
  };
  doc.nodes.forEach((node: unknown, i: number) => {
    if (!isPlainObject(node)) return;
    const base: Path = ['nodes', i];
    const name = typeof node.name === 'string' ? node.name : `nodes[${i}]`;
    if (typeof node.name === 'string') {
      if (names.has(node.name))
        report(
          [...base, 'name'],
          'duplicate-name',
          `node name '${node.name}' is also used by nodes[${names.get(node.name)}]`,
          'node names must be unique',
        );
      else names.set(node.name, i);
    }
    if (Array.isArray(node.macs)) {
      node.macs.forEach((mac: unknown, j: number) => {
        const normal = typeof mac === 'string' ? normalizeMac(mac) : undefined;
        if (normal) claim(macs, normal, `node '${name}'`, [...base, 'macs', j], 'duplicate-mac', `MAC ${normal}`);
      });
    }
    if (isPlainObject(node.addresses)) {
      for (const [netName, address] of Object.entries(node.addresses)) {
        const path = [...base, 'addresses', netName];
        const network = networks.get(netName);
        if (!network) {
          if (isPlainObject(doc.networks) && !(netName in doc.networks)) {
            report(
              path,
              'unknown-network',
              `network '${netName}' is not defined in networks:`,
              didYouMean(netName, Object.keys(doc.networks)),
              'key',
            );
          }
          continue;
        }
        const value = typeof address === 'string' ? parseIPv4(address) : undefined;
        if (value === undefined) continue;
        checkInside(network, netName, value, address as string, path, report);
        claim(addresses, address as string, `node '${name}'`, path, 'duplicate-address', `address ${address}`);
      }
    }
    if (isPlainObject(node.bmc) && typeof node.bmc.address === 'string') {
      const path = [...base, 'bmc', 'address'];
      const value = parseIPv4(node.bmc.address);
      const bmcNetwork = networks.get('bmc');
      if (value !== undefined && bmcNetwork) checkInside(bmcNetwork, 'bmc', value, node.bmc.address, path, report);
      if (value !== undefined)
        claim(
          addresses,
          node.bmc.address,
          `node '${name}' (BMC)`,
          path,
          'duplicate-address',
          `BMC address ${node.bmc.address}`,
        );
    }
    const sshAddress = isPlainObject(node.ssh) ? node.ssh.address : undefined;
    const adminAddress = isPlainObject(node.addresses) ? node.addresses.admin : undefined;
    if (sshAddress === undefined && adminAddress === undefined) {
      report(
        base,
        'no-ssh-address',
        `node '${name}' has neither ssh.address nor addresses.admin`,
        'add addresses: {admin: <address>} so the node can be reached over SSH',
      );
    }
  });
}

function checkInside(
  network: ParsedNetwork,
  netName: string,
  value: number,
  text: string,
  path: Path,
  report: Report,
): void {
  const { start, end } = cidrRange(network.cidr);
  if (!contains(network.cidr, value)) {
    report(path, 'address-outside-network', `address ${text} is outside network '${netName}' (${network.cidr.text})`);
  } else if (network.cidr.prefix <= 30 && (value === start || value === end)) {
    report(
      path,
      'address-reserved',
      `address ${text} is the ${value === start ? 'network' : 'broadcast'} address of network '${netName}' (${network.cidr.text})`,
      `use an address between ${formatIPv4(start + 1)} and ${formatIPv4(end - 1)}`,
    );
  } else if (value === network.gateway) {
    report(
      path,
      'address-reserved',
      `address ${text} is the gateway of network '${netName}'`,
      'give the node an address of its own (e.g. from the static range)',
    );
  } else if (network.dhcp && value >= network.dhcp.start && value <= network.dhcp.end) {
    report(
      path,
      'address-in-dhcp-range',
      `address ${text} is inside the dhcp range of network '${netName}'`,
      'pick an address outside the dynamic range (e.g. from the static range)',
    );
  }
}

function checkRolesAndAttributes(
  doc: Raw,
  barclamps: ReadonlyMap<string, Barclamp>,
  broken: ReadonlySet<string>,
  report: Report,
): void {
  const roleMap = isPlainObject(doc.roles) ? (doc.roles as Record<string, unknown>) : {};
  const used = new Set<string>();
  for (const [role, refs] of Object.entries(roleMap)) {
    if (!Array.isArray(refs)) continue;
    refs.forEach((ref: unknown, j: number) => {
      if (typeof ref !== 'string' || !ref.includes('/')) return;
      const [barclampName, roleName] = ref.split('/') as [string, string];
      const barclamp = barclamps.get(barclampName);
      const path = ['roles', role, j];
      if (!barclamp && broken.has(barclampName)) return;
      if (!barclamp)
        return report(
          path,
          'unknown-barclamp',
          `barclamp '${barclampName}' does not exist`,
          didYouMean(barclampName, barclamps.keys()) ?? `available: ${[...barclamps.keys()].join(', ')}`,
        );
      if (!barclamp.roles[roleName]) {
        return report(
          path,
          'unknown-barclamp-role',
          `barclamp '${barclampName}' has no role '${roleName}'`,
          didYouMean(roleName, Object.keys(barclamp.roles)) ??
            `roles of ${barclampName}: ${Object.keys(barclamp.roles).join(', ')}`,
        );
      }
      used.add(barclampName);
    });
  }
  const counts = new Map<string, number>();
  if (Array.isArray(doc.nodes)) {
    doc.nodes.forEach((node: unknown, i: number) => {
      if (!isPlainObject(node) || !Array.isArray(node.roles)) return;
      const refs = new Set<string>();
      node.roles.forEach((role: unknown, j: number) => {
        if (typeof role !== 'string') return;
        const mapped = roleMap[role];
        if (mapped === undefined) {
          return report(
            ['nodes', i, 'roles', j],
            'unknown-role',
            `role '${role}' is not defined in roles:`,
            didYouMean(role, Object.keys(roleMap)) ?? `defined roles: ${Object.keys(roleMap).join(', ') || '(none)'}`,
          );
        }
        if (Array.isArray(mapped)) mapped.forEach((ref) => typeof ref === 'string' && refs.add(ref));
      });
      for (const ref of refs) counts.set(ref, (counts.get(ref) ?? 0) + 1);
      if (isPlainObject(node.attributes))
        checkAttributeOverrides(node.attributes, ['nodes', i, 'attributes'], barclamps, broken, report, false);
    });
  }
  const order = dependencyOrder(used, barclamps);
  if (!order.ok) {
    for (const d of order.diagnostics)
      report(['roles'], d.code.replace(/^barclamp\./, 'barclamp-'), d.summary, d.suggestion, 'key');
  }
  const deployed = order.ok ? order.order : [...used];
  const globalAttributes = isPlainObject(doc.attributes) ? (doc.attributes as Raw) : {};
  for (const name of deployed) {
    const barclamp = barclamps.get(name);
    if (!barclamp) continue;
    for (const role of Object.values(barclamp.roles)) {
      const count = counts.get(`${name}/${role.name}`) ?? 0;
      const clustered =
        role.clusterAttribute !== undefined &&
        effectiveAttribute(barclamp, globalAttributes, role.clusterAttribute) === true;
      const max = clustered ? role.clusterMax : role.max;
      const where = findRoleMapping(roleMap, `${name}/${role.name}`);
      if (role.min !== undefined && count < role.min) {
        report(
          where ?? ['roles'],
          'role-count',
          `barclamp role ${name}/${role.name} needs at least ${role.min} node(s), found ${count}`,
          `give ${role.min - count} more node(s) a role that maps to ${name}/${role.name}`,
          'key',
        );
      }
      if (max !== undefined && count > max) {
        const hint =
          !clustered && role.clusterAttribute
            ? `set attributes.${name}.${role.clusterAttribute}: true to run it clustered, or `
            : '';
        report(
          where ?? ['roles'],
          'role-count',
          `barclamp role ${name}/${role.name} allows at most ${max} node(s), found ${count}`,
          `${hint}assign it to fewer nodes`,
          'key',
        );
      }
    }
  }
  checkAttributeOverrides(globalAttributes, ['attributes'], barclamps, broken, report, true, new Set(deployed));
}

function checkAttributeOverrides(
  attributes: Raw,
  base: Path,
  barclamps: ReadonlyMap<string, Barclamp>,
  broken: ReadonlySet<string>,
  report: Report,
  checkRequired: boolean,
  deployed?: Set<string>,
): void {
  for (const [barclampName, values] of Object.entries(attributes)) {
    const barclamp = barclamps.get(barclampName);
    if (!barclamp && broken.has(barclampName)) continue;
    if (!barclamp) {
      report(
        [...base, barclampName],
        'unknown-barclamp',
        `attributes given for unknown barclamp '${barclampName}'`,
        didYouMean(barclampName, barclamps.keys()),
        'key',
      );
      continue;
    }
    if (!isPlainObject(values)) continue;
    for (const [key, value] of Object.entries(values)) {
      const spec = barclamp.attributes[key];
      const path = [...base, barclampName, key];
      if (!spec) {
        report(
          path,
          'unknown-attribute',
          `barclamp '${barclampName}' has no attribute '${key}'`,
          didYouMean(key, Object.keys(barclamp.attributes)) ??
            `attributes of ${barclampName}: ${Object.keys(barclamp.attributes).join(', ') || '(none)'}`,
          'key',
        );
        continue;
      }
      for (const problem of attributeValueProblems(spec, value, []))
        report(
          [...path, ...problem.path],
          'attribute-value',
          `${barclampName}.${key}: ${problem.message}`,
          problem.suggestion,
        );
    }
  }
  if (!checkRequired || !deployed) return;
  for (const name of deployed) {
    const barclamp = barclamps.get(name)!;
    for (const [key, spec] of Object.entries(barclamp.attributes)) {
      const given = isPlainObject(attributes[name]) && key in (attributes[name] as Raw);
      if (spec.required && spec.default === undefined && !given) {
        report(
          ['attributes'],
          'missing-attribute',
          `barclamp '${name}' needs attribute '${key}' (${spec.description})`,
          `add attributes: {${name}: {${key}: …}}`,
          'key',
        );
      }
    }
  }
}

function effectiveAttribute(barclamp: Barclamp, attributes: Raw, key: string): unknown {
  const given = isPlainObject(attributes[barclamp.name]) ? (attributes[barclamp.name] as Raw)[key] : undefined;
  return given ?? barclamp.attributes[key]?.default;
}

function findRoleMapping(roleMap: Record<string, unknown>, ref: string): Path | undefined {
  for (const [role, refs] of Object.entries(roleMap)) {
    if (Array.isArray(refs) && refs.includes(ref)) return ['roles', role];
  }
  return undefined;
}
