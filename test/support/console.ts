import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { mintToken } from '../../src/auth/tokens.js';
import { Environment, Role } from '../../src/domain/enums.js';
import type { Api } from './api.js';
import { assertSafeErrors } from './api.js';
import { launchBrowser, type TestBrowser } from './browser.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { type ServiceProcess, spawnService } from './process.js';
import { freePort } from './prometheus.js';
import { type GqlResponse, TEST_SECRET, type TestServer } from './server.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The console's test rig: the service started as users start it (the built
 * output, `npm start`'s command) on a fresh database, and headless Debian
 * chromium. `api` talks to the same service over HTTP for setting up data
 * and simulated instances (test/support/fleet.ts).
 */
export interface ConsoleRig {
  /** The console's address, e.g. http://127.0.0.1:41234 */
  origin: string;
  /** The running service process (replaced by restart()). */
  readonly service: ServiceProcess;
  browser: TestBrowser;
  db: TestDatabase;
  api: Api;
  token(role: Role, sub?: string): Promise<string>;
  /** A new browser context signed in with a token of `role` (pasted on the sign-in page, as a person does); lands on /profiles. */
  signedIn(role?: Role, sub?: string, viewport?: { width: number; height: number }): Promise<Page>;
  /** Stops the service (SIGTERM) and starts it again on the same port and database, as an operator's restart. */
  restart(): Promise<void>;
  /** Saves a screenshot of `page` as docs/console/<name>.png with UPDATE_SCREENSHOTS=1, else into a temp dir (the docs stay as committed). */
  screenshot(page: Page, name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startConsoleRig(env: Record<string, string> = {}): Promise<ConsoleRig> {
  const db = await createTestDatabase();
  const port = await freePort();
  const serviceEnv = { DATABASE_URL: db.url, JWT_SECRET: TEST_SECRET, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_PER_SECOND: '0', ...env };
  let service = spawnService(serviceEnv);
  await service.waitFor(/HotSwap is listening/, 60_000);
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/graphql`;
  const token = (role: Role, sub = `console-${role.toLowerCase()}`, extra: { service?: string; environment?: Environment; instanceId?: string } = {}) =>
    mintToken(TEST_SECRET, { sub, role, expiresInSeconds: 3600, ...extra });
  const adminToken = await token(Role.ADMIN);
  const gql: TestServer['gql'] = async (query, variables, tok = adminToken) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (tok !== null) headers.authorization = `Bearer ${tok}`;
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    return { ...((await res.json()) as GqlResponse), status: res.status } as GqlResponse<never>;
  };
  // What fleet.ts and api.ts use of a server: its URL, tokens and requests (the app itself runs in the child process).
  const server = {
    url,
    db,
    adminToken,
    gql,
    token: (role: Role, extra: { sub?: string; service?: string; environment?: Environment; instanceId?: string } = {}) => token(role, extra.sub, extra),
  } as unknown as TestServer;
  const api: Api = {
    server,
    async gql(query, variables, tok) {
      const res = await gql(query, variables, tok);
      assertSafeErrors(res);
      return res as never;
    },
    async raw(body, headers = {}) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const parsed = (await res.json()) as GqlResponse;
      assertSafeErrors(parsed);
      return { status: res.status, body: parsed };
    },
    token: (role, sub) => token(role, sub),
    instanceToken: (sub) => token(Role.INSTANCE, sub, { service: 'console-test', environment: Environment.STAGING }),
  };
  const browser = await launchBrowser();
  return {
    origin,
    get service() {
      return service;
    },
    browser,
    db,
    api,
    token: (role, sub) => token(role, sub),
    async signedIn(role = Role.ADMIN, sub, viewport) {
      const { page } = await browser.newPage(viewport);
      await page.goto(origin);
      await page.getByLabel('Token').fill(await token(role, sub));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByTestId('viewer').waitFor();
      return page;
    },
    async restart() {
      await service.kill();
      service = spawnService(serviceEnv);
      await service.waitFor(/HotSwap is listening/, 60_000);
    },
    async screenshot(page, name) {
      const dir = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(ROOT, 'docs/console') : path.join(tmpdir(), 'hotswap-console-screenshots');
      await mkdir(dir, { recursive: true });
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: false });
    },
    async stop() {
      await browser.close().catch(() => undefined);
      await service.kill();
      await db.drop();
    },
  };
}
