import express from 'express';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '../../src/server/console-routes.js';
import { startTestServer, type TestServer } from '../support/server.js';

const HTML = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };

/** What the service answers browsers and GraphQL clients on the console's paths (test/support/build-console.ts builds the console first). */
describe('console routes', () => {
  let server: TestServer;
  let origin: string;
  beforeAll(async () => {
    server = await startTestServer();
    origin = new URL(server.url).origin;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves the console at / and at its own routes, with a CSP that allows only this origin', async () => {
    for (const path of ['/', '/profiles', '/deployments/0c8a1d52-6a8f-4b43-9d36-1a3c1e9ab111']) {
      const res = await fetch(origin + path, { headers: HTML });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'.*connect-src 'self'/);
      const html = await res.text();
      expect(html).toContain('<div id="root"></div>');
      // Every script and stylesheet is this server's own.
      expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    }
  });

  it('gives browsers the bundled GraphiQL at /graphql, and GraphQL clients GraphQL', async () => {
    const page = await fetch(`${origin}/graphql`, { headers: HTML });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="graphiql"></div>');
    expect(html).not.toMatch(/cdn|apollographql|embeddable-sandbox/i);

    const query = await fetch(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(await query.json()).toEqual({ data: { __typename: 'Query' } });
    // A GET with a query is a GraphQL request, even from a browser.
    const get = await fetch(`${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { ...HTML, 'apollo-require-preflight': 'true' } });
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it("keeps the service's own paths: health, metrics, and a missing asset is a 404, not the console", async () => {
    expect(await (await fetch(`${origin}/healthz`, { headers: HTML })).json()).toEqual({ status: 'ok' });
    expect((await fetch(`${origin}/metrics`, { headers: HTML })).headers.get('content-type')).toMatch(/text\/plain/);
    expect((await fetch(`${origin}/assets/nope-123.js`)).status).toBe(404);
    // Not a browser: no page.
    expect((await fetch(`${origin}/profiles`, { headers: { accept: 'application/json' } })).status).toBe(404);
  });

  it('says how to build the console when it is not built, instead of a blank page', async () => {
    const app = express().use(consoleRoutes(null));
    const listener = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listener.once('listening', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(listener.address() as AddressInfo).port}/`, { headers: HTML });
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/console is not built: run `npm run build`/);
    } finally {
      listener.close();
    }
  });
});
