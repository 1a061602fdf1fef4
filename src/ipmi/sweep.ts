import { createSocket } from 'node:dgram';
import { cidrRange, formatIPv4, parseCidr, parseRange } from '../util/ipv4.js';
import { channelAuthCapabilitiesRequest, parseChannelAuthCapabilities, type ChannelAuthCapabilities } from './rmcp.js';

export const IPMI_PORT = 623;
const MAX_TARGETS = 65_536;

/** Expands `10.78.0.0/24,10.79.0.5-10.79.0.9,10.80.0.7` into addresses (network/broadcast of a CIDR skipped). */
export function expandTargets(text: string): { addresses: string[]; problems: string[] } {
  const addresses = new Set<string>();
  const problems: string[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const cidr = parseCidr(part);
    const range = cidr ? cidrRange(cidr) : parseRange(part);
    if (!range) {
      problems.push(`'${part}' is neither a CIDR (10.78.0.0/24) nor a range (10.78.0.10-10.78.0.20) nor an address`);
      continue;
    }
    const hostsOnly = cidr !== undefined && cidr.prefix <= 30;
    for (let a = range.start + (hostsOnly ? 1 : 0); a <= range.end - (hostsOnly ? 1 : 0); a++) {
      if (addresses.size >= MAX_TARGETS) {
        problems.push(`more than ${MAX_TARGETS} addresses: sweep smaller ranges`);
        return { addresses: [...addresses], problems };
      }
      addresses.add(formatIPv4(a));
    }
  }
  return { addresses: [...addresses], problems };
}

export interface SweepHit {
  address: string;
  capabilities: ChannelAuthCapabilities;
  ms: number;
}

export interface SweepResult {
  found: SweepHit[];
  silent: string[];
  ms: number;
}

/**
 * Asks every address at once, on one UDP socket, and waits at most `timeoutMs` in total (a second request
 * goes to the silent ones halfway, for lost packets). Dead addresses cost the timeout once, not each.
 * `onHit` hears of each BMC as it answers, so callers can start reading it while the sweep still waits.
 */
export function sweepBmcs(
  addresses: readonly string[],
  options: { timeoutMs: number; port?: number; nowMs: () => number; onHit?: (hit: SweepHit) => void },
): Promise<SweepResult> {
  const port = options.port ?? IPMI_PORT;
  const wanted = new Set(addresses);
  const started = options.nowMs();
  const found = new Map<string, SweepHit>();
  const socket = createSocket('udp4');
  const request = (i: number) => channelAuthCapabilitiesRequest(i % 64);
  const sendAll = (targets: readonly string[]) =>
    targets.forEach((address, i) => socket.send(request(i), port, address, () => undefined));
  return new Promise((resolve) => {
    let timers: NodeJS.Timeout[] = [];
    const finish = () => {
      timers.forEach(clearTimeout);
      timers = [];
      socket.close();
      const hits = [...found.values()].sort((a, b) => compareAddresses(a.address, b.address));
      resolve({
        found: hits,
        silent: addresses.filter((a) => !found.has(a)),
        ms: Math.round(options.nowMs() - started),
      });
    };
    socket.on('message', (packet, remote) => {
      if (found.has(remote.address) || !wanted.has(remote.address)) return;
      const capabilities = parseChannelAuthCapabilities(packet);
      if (!capabilities) return;
      const hit = { address: remote.address, capabilities, ms: Math.round(options.nowMs() - started) };
      found.set(remote.address, hit);
      options.onHit?.(hit);
      if (found.size === addresses.length) finish();
    });
    socket.on('error', () => undefined); // ICMP unreachable for one address must not end the sweep
    socket.bind(0, () => {
      if (addresses.length === 0) return finish();
      sendAll(addresses);
      timers.push(setTimeout(() => sendAll(addresses.filter((a) => !found.has(a))), options.timeoutMs / 2));
      timers.push(setTimeout(finish, options.timeoutMs));
    });
  });
}

function compareAddresses(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}
