import { createHash } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeliveredConfig } from '../../../src/agent/agent-types.js';
import { DeliveredConfigs } from '../../../src/agent/config-store.js';
import { ifNoneMatchMatches, parseIfNoneMatch, startLocalHttp, type LocalHttp, type LocalHttpOptions } from '../../../src/agent/local-http.js';

function delivered(profileName: string, version: number, data: Record<string, unknown> = { version }): DeliveredConfig {
  const hash = createHash('sha256').update(JSON.stringify(data)).digest('hex');
  return { profileName, version, hash, data, file: null, deliveredAt: new Date() };
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request through node:http (fetch would not let a test set Host or hang up mid-request). */
function call(base: string, path: string, init: { method?: string; headers?: Record<string, string>; signal?: AbortSignal; agent?: Agent } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method: init.method ?? 'GET', headers: init.headers, signal: init.signal, agent: init.agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let configs: DeliveredConfigs;
let server: LocalHttp;
let healthy: { ok: boolean; detail: Record<string, unknown> };

async function start(extra: Partial<LocalHttpOptions> = {}): Promise<void> {
  await server?.close();
  server = await startLocalHttp({ port: 0, configs, health: () => healthy, ...extra });
}

beforeEach(async () => {
  configs = new DeliveredConfigs();
  healthy = { ok: true, detail: { connected: true } };
  await start();
});
afterEach(() => server.close());

describe('parseIfNoneMatch', () => {
  it.each([
    [undefined, []],
    ['*', '*'],
    [' * ', '*'],
    ['"abc"', ['abc']],
    ['W/"abc"', ['abc']],
    ['"a", W/"b" ,"c"', ['a', 'b', 'c']],
    [', "a",, "b"', ['a', 'b']],
    ['"a,b", "c"', ['a,b', 'c']],
    ['abc', ['abc']],
  ] as const)('reads %j as %j', (header, tags) => {
    expect(parseIfNoneMatch(header)).toEqual(tags);
  });

  it('matches by weak comparison, and * only when there is a config', () => {
    expect(ifNoneMatchMatches(parseIfNoneMatch('W/"h"'), 'h')).toBe(true);
    expect(ifNoneMatchMatches('*', 'h')).toBe(true);
    expect(ifNoneMatchMatches('*', undefined)).toBe(false);
    expect(ifNoneMatchMatches([], 'h')).toBe(false);
  });
});

describe('GET /configs/<profile>', () => {
  it('serves the config as JSON with its hash as a strong ETag, its version and no-cache', async () => {
    const c = delivered('web', 3, { pool: 8, name: 'w' });
    configs.set(c);
    const r = await call(server.url, '/configs/web');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ pool: 8, name: 'w' });
    expect(r.headers).toMatchObject({
      'content-type': 'application/json',
      etag: `"${c.hash}"`,
      'x-hotswap-version': '3',
      'x-hotswap-hash': c.hash,
      'cache-control': 'no-cache',
    });
  });

  it.each([
    ['the exact tag', (h: string) => `"${h}"`],
    ['the weak form', (h: string) => `W/"${h}"`],
    ['a list holding it', (h: string) => `"old", W/"${h}"`],
    ['the wildcard', () => '*'],
    ['the bare hash', (h: string) => h],
  ])('answers 304 with the same headers and no body to If-None-Match with %s', async (_, header) => {
    const c = delivered('web', 3);
    configs.set(c);
    const r = await call(server.url, '/configs/web', { headers: { 'If-None-Match': header(c.hash) } });
    expect(r.status).toBe(304);
    expect(r.body).toBe('');
    expect(r.headers).toMatchObject({ etag: `"${c.hash}"`, 'x-hotswap-version': '3', 'cache-control': 'no-cache' });
  });

  it('answers 200 to an If-None-Match that names other versions', async () => {
    configs.set(delivered('web', 3));
    const r = await call(server.url, '/configs/web', { headers: { 'If-None-Match': '"old", W/"older"' } });
    expect(r.status).toBe(200);
  });

  it('answers 404 with a JSON error for a profile with no config yet, and 400 for a name that cannot be a profile', async () => {
    const missing = await call(server.url, '/configs/web');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: 'no config for profile web yet' });
    for (const path of ['/configs/Web', '/configs/a%2Fb', '/configs/web/', '/configs/', '/configs/%E0%A4%A', '/configs/-web']) {
      expect((await call(server.url, path)).status, path).toBe(400);
    }
    expect((await call(server.url, '/configs/web?wait=soon')).status).toBe(400);
    expect((await call(server.url, '/nothing-here')).status).toBe(404);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const c = delivered('web', 1, { a: 'x' });
    configs.set(c);
    const r = await call(server.url, '/configs/web', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
    expect(r.headers).toMatchObject({ etag: `"${c.hash}"`, 'content-length': String(JSON.stringify(c.data).length) });
    expect((await call(server.url, '/configs/api', { method: 'HEAD' })).status).toBe(404);
  });

  it('answers other methods with 405 and Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await call(server.url, '/configs/web', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('refuses a request whose Host is not a loopback name (DNS rebinding), and takes localhost', async () => {
    configs.set(delivered('web', 1));
    expect((await call(server.url, '/configs/web', { headers: { Host: 'evil.example:80' } })).status).toBe(403);
    expect((await call(server.url, '/configs/web', { headers: { Host: 'localhost:8111' } })).status).toBe(200);
  });
});

describe('long-poll: GET /configs/<profile>?wait=N', () => {
  it('holds the request until the hash changes and then answers 200 with the new config', async () => {
    const v1 = delivered('web', 1);
    configs.set(v1);
    const reply = call(server.url, '/configs/web?wait=30', { headers: { 'If-None-Match': `"${v1.hash}"` } });
    await vi.waitFor(() => expect(configs.pendingWaits()).toBe(1));
    const v2 = delivered('web', 2);
    configs.set(v2);
    const r = await reply;
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe(`"${v2.hash}"`);
    expect(JSON.parse(r.body)).toEqual(v2.data);
    expect(configs.pendingWaits()).toBe(0);
  });

  it('keeps waiting through a change to another tag the client listed', async () => {
    const [v1, v2, v3] = [delivered('web', 1), delivered('web', 2), delivered('web', 3)];
    configs.set(v1);
    const reply = call(server.url, '/configs/web?wait=30', { headers: { 'If-None-Match': `"${v1.hash}", W/"${v2.hash}"` } });
    await vi.waitFor(() => expect(configs.pendingWaits()).toBe(1));
    configs.set(v2);
    await vi.waitFor(() => expect(configs.pendingWaits()).toBe(1));
    configs.set(v3);
    expect((await reply).headers['x-hotswap-version']).toBe('3');
  });

  it('answers 304 when the wait ends without a change, and the wait is cut to the maximum', async () => {
    const v1 = delivered('web', 1);
    configs.set(v1);
    const timedOut = await call(server.url, '/configs/web?wait=0.2', { headers: { 'If-None-Match': `"${v1.hash}"` } });
    expect(timedOut.status).toBe(304);
    await start({ maxWaitSeconds: 0.2 });
    const t0 = Date.now();
    const capped = await call(server.url, '/configs/web?wait=300', { headers: { 'If-None-Match': `"${v1.hash}"` } });
    expect(capped.status).toBe(304);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(configs.pendingWaits()).toBe(0);
  });

  it('waits for the first config of a profile that has none, and answers 404 if none comes', async () => {
    const reply = call(server.url, '/configs/web?wait=30');
    await vi.waitFor(() => expect(configs.pendingWaits()).toBe(1));
    configs.set(delivered('web', 1));
    expect((await reply).status).toBe(200);
    expect((await call(server.url, '/configs/api?wait=0.1')).status).toBe(404);
  });

  it('frees the wait when the client hangs up', async () => {
    const v1 = delivered('web', 1);
    configs.set(v1);
    const ac = new AbortController();
    const reply = call(server.url, '/configs/web?wait=30', { headers: { 'If-None-Match': `"${v1.hash}"` }, signal: ac.signal });
    await vi.waitFor(() => expect(configs.pendingWaits()).toBe(1));
    ac.abort();
    await expect(reply).rejects.toThrow();
    await vi.waitFor(() => expect(configs.pendingWaits()).toBe(0));
  });

  it('answers pending waits with 304 and Connection: close when the endpoint closes, and close does not wait for keep-alive', async () => {
    const v1 = delivered('web', 1);
    configs.set(v1);
    const agent = new Agent({ keepAlive: true });
    const reply = call(server.url, '/configs/web?wait=30', { headers: { 'If-None-Match': `"${v1.hash}"` }, agent });
    await vi.waitFor(() => expect(configs.pendingWaits()).toBe(1));
    const t0 = Date.now();
    await server.close();
    expect(Date.now() - t0).toBeLessThan(1000);
    const r = await reply;
    expect(r.status).toBe(304);
    expect(r.headers.connection).toBe('close');
    expect(configs.pendingWaits()).toBe(0);
    agent.destroy();
  });
});

describe('GET /configs and /healthz', () => {
  it('lists the profiles with their version and hash', async () => {
    const [web, api] = [delivered('web', 2), delivered('api', 7)];
    configs.set(web);
    configs.set(api);
    const r = await call(server.url, '/configs');
    expect(JSON.parse(r.body)).toEqual([
      { profileName: 'api', version: 7, hash: api.hash },
      { profileName: 'web', version: 2, hash: web.hash },
    ]);
  });

  it('answers 200 with status ok and the detail when healthy, 503 with the detail when not, or when health throws', async () => {
    const ok = await call(server.url, '/healthz');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ status: 'ok', connected: true });
    healthy = { ok: false, detail: { connected: false, profiles: [], status: 'ok' } };
    const down = await call(server.url, '/healthz');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body)).toEqual({ status: 'unavailable', connected: false, profiles: [] });
    await start({
      health: () => {
        throw new Error('boom');
      },
    });
    const broken = await call(server.url, '/healthz');
    expect(broken.status).toBe(503);
    expect(JSON.parse(broken.body)).toEqual({ status: 'unavailable', error: 'boom' });
  });
});

describe('startLocalHttp', () => {
  it('listens on 127.0.0.1 by default and rejects when the port is taken', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(startLocalHttp({ port: Number(new URL(server.url).port), configs, health: () => healthy })).rejects.toThrow(/EADDRINUSE/);
  });
});
