/**
 * The agent's local HTTP endpoint: how a service in any language reads its
 * config without speaking graphql-ws — `GET /configs/<profile>` (with ETag and a
 * long-poll), `GET /configs`, `GET /healthz`. Read-only; no request bodies.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientLogger } from '../client/types.js';
import { PROFILE_NAME_PATTERN } from '../domain/profile.js';
import type { ConfigView, DeliveredConfig } from './agent-types.js';

export interface LocalHttpOptions {
  /**
   * The interface to listen on. Loopback by default because the endpoint has no
   * authentication and a config is secrets-adjacent (internal hosts, credentials'
   * names, feature flags): only the service beside the agent should read it.
   * Binding elsewhere (`--listen 0.0.0.0:PORT`, e.g. for another container that
   * does not share the network namespace) is an explicit choice of the operator.
   * On loopback, requests whose Host is not a loopback name are refused (DNS rebinding).
   * @default '127.0.0.1'
   */
  host?: string;
  /** 0 picks a free port (see {@link LocalHttp.url}). */
  port: number;
  configs: ConfigView;
  /** What `/healthz` answers: 200 when `ok`, else 503; `detail` is merged into the body. */
  health: () => { ok: boolean; detail: Record<string, unknown> };
  /** Longest long-poll, in seconds; a longer `?wait=` is cut to it. @default 300 */
  maxWaitSeconds?: number;
  /** Where a handler's unexpected failure is reported (the client still gets a 500). */
  logger?: Pick<ClientLogger, 'warn'>;
}

export interface LocalHttp {
  /** e.g. `http://127.0.0.1:8111`, with the port actually bound. */
  url: string;
  /** Ends pending long-polls (they answer as timed out), stops listening; idempotent. */
  close(): Promise<void>;
}

type Health = LocalHttpOptions['health'];

const JSON_TYPE = 'application/json';
const ALLOW = 'GET, HEAD';

/** The entity-tags of an `If-None-Match` header; `'*'` for the wildcard; empty when absent. */
export function parseIfNoneMatch(header: string | undefined): string[] | '*' {
  if (header === undefined) return [];
  if (header.trim() === '*') return '*';
  const tags: string[] = [];
  // RFC 9110 §8.8.3: [W/]"opaque" — commas may sit inside the quotes. A bare token
  // (someone pasting X-HotSwap-Hash into curl) is taken as that tag, not ignored.
  const re = /[\s,]*(?:W\/)?(?:"([^"]*)"|([^\s,"]+))\s*(?:,|$)/gy;
  for (let m = re.exec(header); m !== null && m[0] !== ''; m = re.exec(header)) tags.push(m[1] ?? m[2] ?? '');
  return tags;
}

/** Weak comparison (RFC 9110 §13.1.2: If-None-Match ignores `W/`): does the header match a config with this hash? */
export function ifNoneMatchMatches(tags: string[] | '*', hash: string | undefined): boolean {
  if (hash === undefined) return false;
  return tags === '*' || tags.includes(hash);
}

/** Starts the endpoint; rejects when the address cannot be bound (e.g. the port is in use). */
export async function startLocalHttp(options: LocalHttpOptions): Promise<LocalHttp> {
  const host = options.host ?? '127.0.0.1';
  const maxWaitMs = (options.maxWaitSeconds ?? 300) * 1000;
  const waits = new Set<AbortController>();
  let closing: Promise<void> | null = null;

  const server = createServer((req, res) => {
    if (closing) res.setHeader('Connection', 'close');
    route(req, res).catch((error: unknown) => {
      options.logger?.warn('local HTTP request failed', { url: req.url, error: error instanceof Error ? error.message : String(error) });
      if (!res.headersSent) send(res, req, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A loopback endpoint still answers any web page the user opens, through DNS
    // rebinding (evil.example resolving to 127.0.0.1): a Host that is not a
    // loopback name gives that away.
    if (isLoopback(host) && !isLoopback(hostnameOf(req.headers.host))) {
      return send(res, req, 403, { error: 'this endpoint answers only requests addressed to localhost' });
    }
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    if (path !== '/healthz' && path !== '/configs' && !path.startsWith('/configs/')) {
      return send(res, req, 404, { error: `no such endpoint: ${path.slice(0, 100)}` });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, req, 405, { error: `method ${req.method ?? ''} is not allowed; use GET or HEAD` }, { Allow: ALLOW });
    }
    if (path === '/healthz') return sendHealth(req, res, options.health);
    if (path === '/configs') {
      const list = options.configs.profiles().flatMap((name) => {
        const c = options.configs.get(name);
        return c ? [{ profileName: c.profileName, version: c.version, hash: c.hash }] : [];
      });
      return send(res, req, 200, list, { 'Cache-Control': 'no-cache' });
    }
    // Not percent-decoded: a profile name is unreserved characters only, so
    // anything encoded is not one.
    const profile = path.slice('/configs/'.length);
    if (!PROFILE_NAME_PATTERN.test(profile)) {
      return send(res, req, 400, { error: `"${profile.slice(0, 80)}" is not a valid profile name: 1–63 lowercase letters, digits and hyphens` });
    }
    const wait = new URLSearchParams(q < 0 ? '' : target.slice(q + 1)).get('wait');
    if (wait !== null && !/^\d+(?:\.\d+)?$/.test(wait)) {
      return send(res, req, 400, { error: 'wait must be a number of seconds' });
    }
    await serveConfig(req, res, profile, Math.min(Number(wait ?? 0) * 1000, maxWaitMs));
  }

  /**
   * Answers with the profile's config, 304 when `If-None-Match` matches it. With
   * a wait, holds the request while the answer would be 304 or 404 (no config
   * yet) — until a new config comes, the wait ends, the client hangs up, or the
   * endpoint closes.
   */
  async function serveConfig(req: IncomingMessage, res: ServerResponse, profile: string, waitMs: number): Promise<void> {
    const tags = parseIfNoneMatch(req.headers['if-none-match']);
    const unchanged = (c: DeliveredConfig | undefined): boolean => c === undefined || ifNoneMatchMatches(tags, c.hash);
    let config = options.configs.get(profile);
    if (waitMs > 0 && unchanged(config)) {
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), waitMs);
      const hangUp = (): void => ac.abort();
      req.once('close', hangUp);
      waits.add(ac);
      try {
        while (unchanged(config)) {
          const next = await options.configs.changed(profile, config?.hash ?? null, ac.signal);
          if (next === undefined) break;
          config = next;
        }
      } finally {
        clearTimeout(timer);
        req.off('close', hangUp);
        waits.delete(ac);
      }
      if (res.destroyed || req.destroyed) return;
      config = options.configs.get(profile);
      if (closing) res.setHeader('Connection', 'close');
    }
    if (config === undefined) return send(res, req, 404, { error: `no config for profile ${profile} yet` });
    const headers = {
      ETag: `"${config.hash}"`,
      'X-HotSwap-Version': String(config.version),
      'X-HotSwap-Hash': config.hash,
      'Cache-Control': 'no-cache',
    };
    if (ifNoneMatchMatches(tags, config.hash)) {
      res.writeHead(304, headers).end();
      return;
    }
    send(res, req, 200, bodyOf(config), headers);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const ac of waits) ac.abort();
        server.close(() => resolve());
        server.closeIdleConnections();
      })),
  };
}

function sendHealth(req: IncomingMessage, res: ServerResponse, health: Health): void {
  let verdict: ReturnType<Health>;
  try {
    verdict = health();
  } catch (error) {
    verdict = { ok: false, detail: { error: error instanceof Error ? error.message : String(error) } };
  }
  const status = verdict.ok ? 'ok' : 'unavailable';
  // `status` first in the body and not overridable by the detail.
  send(res, req, verdict.ok ? 200 : 503, Object.assign({ status }, verdict.detail, { status }), { 'Cache-Control': 'no-store' });
}

/** A config's body is serialised once, however many clients (e.g. long-polls woken together) read it. */
const bodies = new WeakMap<DeliveredConfig, Buffer>();
function bodyOf(config: DeliveredConfig): Buffer {
  let body = bodies.get(config);
  if (!body) bodies.set(config, (body = Buffer.from(JSON.stringify(config.data))));
  return body;
}

/** Sends JSON (a value, or bytes already serialised); HEAD gets the same headers and no body. */
function send(res: ServerResponse, req: IncomingMessage, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...headers, 'Content-Type': JSON_TYPE, 'Content-Length': String(bytes.length) });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** The host name of a Host header (`[::1]:8111` → `::1`); '' when absent or malformed. */
function hostnameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  try {
    return new URL(`http://${hostHeader}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return '';
  }
}
