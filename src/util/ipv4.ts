/** IPv4 arithmetic for network validation. Addresses are unsigned 32-bit integers. */
export interface Cidr {
  network: number;
  prefix: number;
  text: string;
}

export interface AddressRange {
  start: number;
  end: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Dotted netmask of a prefix length: 24 → 255.255.255.0. */
export function netmaskOf(prefix: number): string {
  return formatIPv4(2 ** 32 - 2 ** (32 - prefix));
}

export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) return undefined;
  const address = parseIPv4(match[1]!);
  const prefix = Number(match[2]);
  if (address === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) return undefined;
  return { network: address, prefix, text };
}

export function cidrProblem(text: string): string | undefined {
  if (parseCidr(text)) return undefined;
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match) return `'${text}' is not a CIDR (expected e.g. 10.77.0.0/24)`;
  const address = parseIPv4(match[1]!);
  const prefix = Number(match[2]);
  if (address === undefined) return `'${match[1]}' is not an IPv4 address`;
  if (prefix > 32) return `prefix /${prefix} is longer than 32`;
  const size = 2 ** (32 - prefix);
  return `'${text}' has host bits set; the network is ${formatIPv4(address - (address % size))}/${prefix}`;
}

export function ipv4Problem(text: string): string | undefined {
  return parseIPv4(text) === undefined ? `'${text}' is not an IPv4 address (expected e.g. 10.77.0.11)` : undefined;
}

export function cidrRange(cidr: Cidr): AddressRange {
  return { start: cidr.network, end: cidr.network + 2 ** (32 - cidr.prefix) - 1 };
}

export function contains(cidr: Cidr, address: number): boolean {
  const { start, end } = cidrRange(cidr);
  return address >= start && address <= end;
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** Parses `10.0.0.5-10.0.0.9`, `10.0.0.5-9` or a single address. */
export function parseRange(text: string): AddressRange | undefined {
  const [left, right, ...rest] = text.split('-');
  if (rest.length > 0 || left === undefined) return undefined;
  const start = parseIPv4(left.trim());
  if (start === undefined) return undefined;
  if (right === undefined) return { start, end: start };
  const trimmed = right.trim();
  const end = /^\d{1,3}$/.test(trimmed) ? parseIPv4(left.trim().replace(/\d+$/, trimmed)) : parseIPv4(trimmed);
  if (end === undefined || end < start) return undefined;
  return { start, end };
}

export function rangeProblem(text: string): string | undefined {
  return parseRange(text)
    ? undefined
    : `'${text}' is not an address range (expected e.g. 10.77.0.100-10.77.0.199, start ≤ end)`;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function normalizeMac(text: string): string | undefined {
  const lower = text.toLowerCase().replace(/-/g, ':');
  return MAC.test(lower) ? lower : undefined;
}

export function macProblem(text: string): string | undefined {
  return normalizeMac(text) ? undefined : `'${text}' is not a MAC address (expected e.g. 52:54:00:77:00:01)`;
}
