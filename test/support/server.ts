import { randomBytes } from 'node:crypto';
import { type RunningApp, startApp } from '../../src/app.js';
import { mintToken } from '../../src/auth/tokens.js';
import { type AppConfig, loadConfig } from '../../src/config.js';
import { type Environment, Role } from '../../src/domain/enums.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import type { Logger } from 'pino';

export const TEST_SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

/** Redis keys of this test file's servers: files share one Redis and must not see each other's instances. */
export const TEST_REDIS_PREFIX = `test:${randomBytes(4).toString('hex')}:`;

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

export interface TestServer {
  app: RunningApp;
  url: string;
  db: TestDatabase;
  /** Mints a token signed with the server's secret. */
  token(role: Role, extra?: { sub?: string; service?: string; environment?: Environment; instanceId?: string }): Promise<string>;
  /** POSTs one GraphQL operation; `token: null` sends no Authorization header. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResponse<T>>;
  adminToken: string;
  /**
   * Stops the app and starts a new one on the same database, port and
   * environment, as a restarted server: an in-process registry starts empty.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the real app (HTTP, GraphQL, PostgreSQL) on a free port and a fresh
 * database; `logger` replaces the silent one (see test/support/log-capture.ts).
 */
export async function startTestServer(env: Record<string, string> = {}, logger?: Logger): Promise<TestServer> {
  const db = await createTestDatabase();
  const configWith = (port: string): AppConfig =>
    loadConfig({
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_SECRET,
      PORT: port,
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_SECOND: '0',
      LOG_LEVEL: 'silent',
      HOTSWAP_REDIS_PREFIX: TEST_REDIS_PREFIX,
      ...env,
    });
  const config = configWith('0');
  let app = await startApp(config, logger ?? createLogger(config.logLevel));
  const token: TestServer['token'] = (role, extra = {}) =>
    mintToken(TEST_SECRET, { sub: extra.sub ?? `test-${role.toLowerCase()}`, role, expiresInSeconds: 3600, ...extra });
  const adminToken = await token(Role.ADMIN);
  return {
    get app() {
      return app;
    },
    url: app.url,
    db,
    token,
    adminToken,
    async gql(query, variables, tok = adminToken) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (tok !== null) headers.authorization = `Bearer ${tok}`;
      const res = await fetch(app.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as GqlResponse;
      return { ...body, status: res.status } as GqlResponse<never>;
    },
    async restart() {
      await app.stop();
      app = await startApp(configWith(String(app.port)), logger ?? createLogger(config.logLevel));
    },
    async stop() {
      await app.stop();
      await db.drop();
    },
  };
}

