import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { redactSecrets } from '../failures/record.js';
import type { DashboardView } from './view-model.js';

export interface DashboardServerOptions {
  host: string;
  port: number;
  /** Required of every request when set (query `token=` or `Authorization: Bearer`). */
  token?: string;
  /** The current view; called once per tick while someone watches, and per /api/view request. */
  view: () => DashboardView;
  /** Values that must never reach a page, whatever the view holds (defence in depth: records are redacted already). */
  secrets: () => readonly string[];
  /** share/dashboard: index.html, app.js, style.css — served by us, no CDN (deploy-day rooms are offline). */
  assetsDir: string;
  /** How often watchers are sent a changed view. */
  intervalMs?: number;
  /** Open event streams at most (each holds a connection and its backlog); more are refused with 503. */
  maxStreams?: number;
}

const MAX_STREAMS = 32;
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // only our own script and style; the page makes no request anywhere else
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/**
 * The read-only dashboard: its assets, the view as JSON (/api/view) and as a stream (/events, Server-Sent
 * Events: the whole view again whenever it changed — a few kB per node list, simpler and sturdier than diffs).
 */
export async function startDashboard(o: DashboardServerOptions): Promise<DashboardServer> {
  const assets = Object.fromEntries(
    Object.entries(ASSETS).map(([path, a]) => [path, { body: readFileSync(join(o.assetsDir, a.file)), type: a.type }]),
  );
  const watchers = new Set<ServerResponse>();
  /** Watchers whose socket was still busy when a newer view was ready: they get the newest once it drains. */
  const owed = new Set<ServerResponse>();
  let lastSent = '';
  const currentJson = () => JSON.stringify(redactView(o.view(), o.secrets()));
  const send = (w: ServerResponse) => {
    // a slow browser never gets a backlog of stale views, only the newest one when it can take it
    if (w.writableNeedDrain) owed.add(w);
    else w.write(`data: ${lastSent}\n\n`);
  };
  let tick: NodeJS.Timeout | undefined;
  const schedule = () => {
    // the next tick counts from the end of this one: a view that takes long to build never stacks up
    tick = setTimeout(() => {
      if (watchers.size > 0) {
        const json = currentJson();
        if (json !== lastSent) {
          lastSent = json;
          for (const w of watchers) send(w);
        }
      }
      schedule();
    }, o.intervalMs ?? 1000);
  };
  schedule();
  // keeps proxies and idle timeouts from closing a quiet stream
  const keepAlive = setInterval(() => {
    for (const w of watchers) w.write(': keep-alive\n\n');
  }, 15_000);

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      res
        .writeHead(500, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' })
        .end(`dashboard error: ${(error as Error).message}\n`);
    }
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    // DNS rebinding: a page elsewhere whose name now points at 127.0.0.1 sends its own name as Host. A
    // dashboard without a token (loopback only) answers only requests that name the loopback.
    if (o.token === undefined && !LOOPBACK_NAMES.has((req.headers.host ?? '').replace(/:\d+$/, ''))) {
      res
        .writeHead(403, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' })
        .end('this dashboard answers only at 127.0.0.1, localhost or [::1]\n');
      return;
    }
    if (o.token !== undefined && !authorized(req, url, o.token)) {
      res
        .writeHead(403, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' })
        .end('a token is required: open the address bootstrap printed (it carries ?token=…)\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...HEADERS, allow: 'GET, HEAD' }).end();
      return;
    }
    const asset = assets[url.pathname];
    if (asset) {
      res
        .writeHead(200, { ...HEADERS, 'content-type': asset.type })
        .end(req.method === 'HEAD' ? undefined : asset.body);
      return;
    }
    if (url.pathname === '/api/view') {
      res.writeHead(200, { ...HEADERS, 'content-type': 'application/json' }).end(currentJson());
      return;
    }
    if (url.pathname === '/events') {
      if (watchers.size >= (o.maxStreams ?? MAX_STREAMS)) {
        res
          .writeHead(503, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10' })
          .end('too many open event streams\n');
        return;
      }
      res.writeHead(200, { ...HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
      res.write(`retry: 2000\ndata: ${currentJson()}\n\n`);
      watchers.add(res);
      res.on('drain', () => {
        if (owed.delete(res)) send(res);
      });
      req.on('close', () => {
        watchers.delete(res);
        owed.delete(res);
      });
      return;
    }
    res.writeHead(404, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/${o.token !== undefined ? `?token=${encodeURIComponent(o.token)}` : ''}`,
    close: async () => {
      clearTimeout(tick);
      clearInterval(keepAlive);
      for (const w of watchers) w.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function authorized(req: IncomingMessage, url: URL, token: string): boolean {
  const header = req.headers.authorization;
  const given = url.searchParams.get('token') ?? (header?.startsWith('Bearer ') ? header.slice(7) : undefined);
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Every string of the view with known secret values replaced (before JSON escaping could hide a match). */
export function redactView<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return redactSecrets(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => redactView(v, secrets)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactView(v, secrets)])) as T;
  return value;
}
