import { timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { contains, normalizeMac, parseIPv4 } from '../util/ipv4.js';
import type { BootScripts } from './boot-scripts.js';
import { parseHardwareReport } from './hardware-report.js';
import { bootActionFor, IllegalTransition } from './machine-state.js';
import { unknownMachineId, type MachineRecord, type MachineStore } from './machine-store.js';
import { readOsImage } from './os-image.js';
import { bootServerUrl, type ProvisionerConfig } from './provisioner-config.js';

const MAX_BODY = 1024 * 1024;
/** Enlisted machines nobody told us about, at most (the same bound as their sightings' files). */
const UNKNOWN_MACHINES_MAX = 1024;
/** Callbacks one address may make in a window: a machine reports once per boot, a flood is refused (429). */
const CALLBACKS_PER_WINDOW = 20;
const CALLBACK_WINDOW_MS = 10_000;
const DRAIN_LIMIT = 16 * MAX_BODY;

export interface BootServerDeps {
  config: ProvisionerConfig;
  store: MachineStore;
  scripts: BootScripts;
  /** The bootstrapper's public key, installed for root by the preseed's late command. */
  authorizedKey: () => string | undefined;
  /** apt proxy for the installer (the admin node's package cache), or ''. */
  aptProxy: string;
  log: (line: string) => void;
  /** The address DHCP leased to a MAC now (dnsmasq's lease file), if any: an installer speaks from it. */
  leaseOf?: (mac: string) => string | undefined;
}

/**
 * The HTTP half of the provisioner: per-machine iPXE scripts chosen by machine state, the discovery
 * agent, preseed files and the callbacks that move machines on (agent report, install finished).
 */
export function createBootServer(deps: BootServerDeps): Server {
  const recent = new Map<string, number[]>();
  const allowed = (peer: string | undefined, nowMs: number) => {
    const key = peer ?? '?';
    const times = (recent.get(key) ?? []).filter((t) => nowMs - t < CALLBACK_WINDOW_MS);
    if (recent.size > 4096) recent.clear();
    recent.set(key, [...times, nowMs]);
    return times.length < CALLBACKS_PER_WINDOW;
  };
  return createServer((request, response) => {
    if (request.method === 'POST' && !allowed(peerAddress(request), Date.now())) {
      reply(response, 429, 'too many callbacks from this address\n');
      return;
    }
    handle(deps, request, response).catch((error: unknown) => {
      deps.log(`error: ${request.method} ${request.url}: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) reply(response, 500, 'internal error\n');
    });
  });
}

async function handle(deps: BootServerDeps, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]!;
  const server = bootServerUrl(deps.config);
  const parts = path.split('/').filter(Boolean);
  deps.log(`${request.socket.remoteAddress ?? '?'} ${request.method} ${path}`);
  if (request.method === 'GET' && path === '/boot.ipxe') return reply(response, 200, deps.scripts.entry(server));
  if (request.method === 'GET' && path === '/agent.sh') return reply(response, 200, deps.scripts.agent());
  if (request.method === 'GET' && path === '/installer.sh') return reply(response, 200, deps.scripts.installer());
  if (request.method === 'GET' && parts[0] === 'images' && parts.length > 1)
    return serveImage(deps.config.imagesDir, parts.slice(1), response);
  if (request.method === 'GET' && parts[0] === 'boot' && parts.length === 2) {
    const mac = macParam(parts[1]!);
    if (!mac) return reply(response, 400, 'not a MAC address\n');
    const machine = deps.store.byMac(mac);
    const action = bootActionFor(machine?.state);
    deps.store.sight(
      machineIdFor(deps.config, machine, mac),
      'boot-script',
      `${action} (state ${machine?.state ?? 'unknown'})`,
    );
    return reply(
      response,
      200,
      deps.scripts.forMachine(action, { server, mac, node: machine?.node ?? '', deployment: deps.config.deployment }),
    );
  }
  if (request.method === 'GET' && parts[0] === 'preseed' && parts.length === 2) {
    const mac = macParam(parts[1]!);
    const machine = mac ? deps.store.byMac(mac) : undefined;
    const reservation = deps.config.reservations.find((r) => r.mac === mac);
    if (!mac || !machine?.node || !reservation || machine.state !== 'installing' || !machine.installToken)
      return reply(response, 404, 'no install is planned for this machine\n');
    // the preseed carries the install's one-time token: only the machine itself (its lease or reservation) gets it
    const peer = peerAddress(request);
    if (!machineAddress(deps, mac, reservation.address, peer)) {
      deps.store.sight(
        machine.id,
        'rejected',
        `preseed asked for by ${peer ?? 'an unknown address'}, not by the machine (its lease ${deps.leaseOf?.(mac) ?? 'none'}, its reservation ${reservation.address})`,
      );
      return reply(response, 403, 'the preseed is served to the machine being installed only\n');
    }
    const image = readOsImage(deps.config.imagesDir);
    const install = machine.install;
    const hints = install?.rootDevice;
    return reply(
      response,
      200,
      deps.scripts.preseed({
        server,
        mac,
        node: machine.node,
        deployment: deps.config.deployment,
        address: reservation.address,
        netmask: deps.config.netmask,
        proxy: deps.aptProxy,
        token: machine.installToken,
        image: image ? `${server}/images/${image.path}` : '',
        imageSha256: image?.sha256 ?? '',
        rootName: hints?.name ?? '',
        rootSerial: hints?.serial ?? '',
        rootMinBytes: hints?.minSizeGiB !== undefined ? String(hints.minSizeGiB * 1024 ** 3) : '',
        wipe: install?.wipe ?? false,
      }),
    );
  }
  if (request.method === 'GET' && parts[0] === 'keys' && parts.length === 2) {
    const key = deps.authorizedKey();
    const machine = deps.store.get(parts[1]!.replace(/[^A-Za-z0-9._-]/g, ''));
    if (!key || !machine || machine.state !== 'installing') return reply(response, 404, 'no key for this machine\n');
    return reply(response, 200, `${key.trim()}\n`);
  }
  if (request.method === 'POST' && parts[0] === 'callback' && parts.length === 3) {
    const mac = macParam(parts[1]!);
    if (!mac) return reply(response, 400, 'not a MAC address\n');
    // enlistment and install callbacks change what apply does to a machine: only the provisioning network may make them
    const peer = peerAddress(request);
    if (!onProvisioningNetwork(deps.config, peer)) {
      deps.store.sight(
        machineIdFor(deps.config, deps.store.byMac(mac), mac),
        'rejected',
        `${parts[2]} callback from ${peer ?? 'an unknown address'}, outside the provisioning network`,
      );
      return reply(response, 403, 'callbacks are accepted from the provisioning network only\n');
    }
    const body = await readBody(request);
    if (body === undefined) return reply(response, 413, `body larger than ${MAX_BODY} bytes\n`);
    if (parts[2] === 'inventory') return inventoryCallback(deps, mac, body, response);
    const query = new URL(request.url ?? '/', 'http://boot').searchParams;
    const from = { peer, token: query.get('token') ?? '' };
    if (parts[2] === 'installed') return installedCallback(deps, mac, body, from, response);
    if (parts[2] === 'failed')
      return failedCallback(deps, mac, body, { ...from, step: query.get('step') ?? '' }, response);
  }
  reply(response, 404, 'not found\n');
}

function peerAddress(request: IncomingMessage): string | undefined {
  const address = request.socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

function onProvisioningNetwork(config: ProvisionerConfig, peer: string | undefined): boolean {
  const own = parseIPv4(config.address);
  const address = peer === undefined ? undefined : parseIPv4(peer);
  if (own === undefined || address === undefined) return false;
  const mask = config.prefix === 0 ? 0 : (0xffffffff << (32 - config.prefix)) >>> 0;
  return contains({ network: (own & mask) >>> 0, prefix: config.prefix, text: '' }, address);
}

/** The agent's report: enlists unknown machines, records hardware, moves the machine to inspected. */
function inventoryCallback(deps: BootServerDeps, mac: string, body: string, response: ServerResponse): void {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return reply(response, 400, 'report is not JSON\n');
  }
  const { report, problems } = parseHardwareReport(json);
  const known = deps.store.byMac(mac);
  const reservation = deps.config.reservations.find((r) => r.mac === mac);
  const id = machineIdFor(deps.config, known, mac);
  if (!report) {
    deps.store.sight(id, 'rejected', `agent report: ${problems.join('; ')}`);
    return reply(response, 422, `invalid report: ${problems.join('; ')}\n`);
  }
  if (!known && !reservation && deps.store.unknownCount() >= UNKNOWN_MACHINES_MAX)
    return reply(response, 429, 'too many machines nobody told us about: not enlisting more\n');
  // a report speaks for its own machine only: MACs another record owns are not taken over
  const others = new Map<string, string>();
  for (const nic of report.nics) {
    const owner = nic.mac === mac ? undefined : deps.store.byMac(nic.mac);
    if (owner && owner.id !== known?.id) others.set(nic.mac, owner.id);
  }
  if (others.size > 0)
    deps.store.sight(
      id,
      'rejected',
      `agent report claims MACs of other machines, not taken: ${[...others].map(([m, owner]) => `${m} (${owner})`).join(', ')}`,
    );
  const ownMacs = report.nics.map((n) => n.mac).filter((m) => !others.has(m));
  const machine =
    known ??
    deps.store.enroll(
      id,
      { ...(reservation ? { node: reservation.name } : {}), macs: [mac, ...ownMacs.filter((m) => m !== mac)] },
      'discovered',
      'PXE-booted the discovery image',
    );
  deps.store.sight(
    id,
    'agent-report',
    `${report.cpu.count} CPU, ${report.memoryMiB} MiB, ${report.disks.length} disk(s), ${report.nics.length} NIC(s)`,
  );
  try {
    deps.store.transition(machine.id, 'inspected', 'discovery agent reported', (r: MachineRecord) => {
      r.hardware = report;
      r.macs = [...new Set([...r.macs, ...ownMacs])];
    });
  } catch (error) {
    if (!(error instanceof IllegalTransition)) throw error;
    deps.store.update(machine.id, (r) => (r.hardware = report));
  }
  reply(response, 200, 'ok\n');
}

/**
 * The installer's late command: the machine is installed; its SSH host key comes with the call. Only this
 * install's own callback counts: from the machine (its lease or reservation), with the one-time token its
 * preseed carried. Anything else (a forgery, a second callback) is a rejected sighting, which apply records as a failure.
 */
function installedCallback(
  deps: BootServerDeps,
  mac: string,
  body: string,
  from: { peer: string | undefined; token: string },
  response: ServerResponse,
): void {
  const machine = installCallbackMachine(deps, mac, from, 'install', response);
  if (!machine) return;
  const hostKey = body.trim();
  if (!/^ssh-ed25519 [A-Za-z0-9+/=]+$/.test(hostKey.split(/\s+/).slice(0, 2).join(' ')))
    return reply(response, 400, 'expected the ssh-ed25519 host public key\n');
  deps.store.sight(machine.id, 'installed', 'installer finished');
  deps.store.transition(machine.id, 'installed', 'installer reported completion', (r) => {
    r.hostKey = hostKey.split(/\s+/).slice(0, 2).join(' ');
    delete r.installToken;
  });
  reply(response, 200, 'ok\n');
}

/**
 * The install agent's report that a step failed: where the install stopped and its log. Accepted on the same
 * terms as the installed callback (from the machine, with this install's token); apply records it as a failure.
 */
function failedCallback(
  deps: BootServerDeps,
  mac: string,
  body: string,
  from: { peer: string | undefined; token: string; step: string },
  response: ServerResponse,
): void {
  const machine = installCallbackMachine(deps, mac, from, 'install failure', response);
  if (!machine) return;
  const step = /^[a-z-]{1,20}$/.test(from.step) ? from.step : 'unknown';
  const report = body.slice(0, 16 * 1024);
  deps.store.sight(machine.id, 'install-failed', `step ${step}: ${report.split('\n')[0]}`);
  deps.store.transition(machine.id, 'install-failed', `install agent: step ${step} failed`, (r) => {
    r.installFailure = { step, report };
    delete r.installToken;
  });
  reply(response, 200, 'ok\n');
}

/**
 * The machine an install callback speaks for, when it is being installed and the call comes from the machine
 * itself with this install's token; otherwise a rejected sighting, the refusal sent, and undefined.
 */
function installCallbackMachine(
  deps: BootServerDeps,
  mac: string,
  from: { peer: string | undefined; token: string },
  what: string,
  response: ServerResponse,
): MachineRecord | undefined {
  const machine = deps.store.byMac(mac);
  const id = machineIdFor(deps.config, machine, mac);
  if (!machine || machine.state !== 'installing' || !machine.installToken) {
    deps.store.sight(
      id,
      'rejected',
      `${what} callback from ${from.peer ?? 'an unknown address'} in state ${machine?.state ?? 'unknown'}`,
    );
    reply(response, 409, 'this machine is not being installed\n');
    return undefined;
  }
  const reservation = deps.config.reservations.find((r) => r.mac === mac);
  const fromMachine = reservation !== undefined && machineAddress(deps, mac, reservation.address, from.peer);
  if (!fromMachine || !sameSecret(from.token, machine.installToken)) {
    deps.store.sight(
      machine.id,
      'rejected',
      `${what} callback from ${from.peer ?? 'an unknown address'} ${!fromMachine ? `instead of the machine (its lease ${deps.leaseOf?.(mac) ?? 'none'}, its reservation ${reservation?.address ?? 'none'})` : "without this install's token"}`,
    );
    reply(response, 403, "not this install's callback\n");
    return undefined;
  }
  return machine;
}

/** The machine speaks from the address DHCP leased to its MAC (an installer) or its reservation (the installed system). */
function machineAddress(deps: BootServerDeps, mac: string, reserved: string, peer: string | undefined): boolean {
  return peer !== undefined && (peer === reserved || peer === deps.leaseOf?.(mac));
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Kernels and ramdisks, streamed (they are megabytes); names with dots in front never leave imagesDir. */
async function serveImage(imagesDir: string, parts: string[], response: ServerResponse): Promise<void> {
  if (parts.some((p) => p.startsWith('.') || p.includes('\\'))) return reply(response, 404, 'not found\n');
  const file = join(imagesDir, ...parts);
  const size = await stat(file).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
  if (size === undefined)
    return reply(
      response,
      404,
      `no image ${parts.join('/')} (is the discovery image built? see the provisioner log)\n`,
    );
  response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size });
  await pipeline(createReadStream(file), response);
}

/**
 * A MAC's machine: the record that lists it (`known`, already looked up by the caller: a lookup reads every
 * record), else the inventory node it is reserved for, else unknown.
 */
export function machineIdFor(config: ProvisionerConfig, known: MachineRecord | undefined, mac: string): string {
  return known?.id ?? config.reservations.find((r) => r.mac === mac)?.name ?? unknownMachineId(mac);
}

function macParam(text: string): string | undefined {
  return normalizeMac(decodeURIComponent(text).replace(/-/g, ':'));
}

/**
 * The body, or undefined when it is larger than MAX_BODY. An oversized body is read to its end and dropped
 * (the sender then gets its 413 instead of a reset connection), up to DRAIN_LIMIT; beyond that, hung up on.
 */
function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
      else if (size > DRAIN_LIMIT) request.destroy();
    });
    request.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
    // destroyed above: nobody is left to answer, but the handler must not wait forever
    request.on('close', () => resolve(undefined));
  });
}

function reply(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}
