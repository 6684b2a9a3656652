import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused } from '../support/api.js';
import { captureLogs, LogLevel, type LogLine } from '../support/log-capture.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs } from '../support/ws-client.js';

/**
 * Hostile input an outside checklist found (issue 14, point 5): each is refused
 * with designed text and a code from our list, and none fills the error log.
 */
describe('hostile input', () => {
  const logs = captureLogs();
  let server: TestServer;
  let a: Api;

  beforeAll(async () => {
    server = await startTestServer({}, logs.logger);
    a = api(server);
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(() => logs.clear());

  /** The request log lines ("graphql request") written since the test began. */
  const requestLines = (): Array<LogLine & { request: { errors: string[]; fields: string[] } }> =>
    logs.lines.filter((l) => l.msg === 'graphql request') as never;

  describe('a subscription sent over HTTP', () => {
    const SUBSCRIPTION = 'subscription { deploymentEvents(id: "x") { type } }';

    it.each([
      ['with a token', undefined],
      ['without a token', null],
    ] as const)('%s is refused with BAD_USER_INPUT pointing to the websocket, and nothing is logged as an error', async (_label, token) => {
      for (let i = 0; i < 3; i++) {
        const res = await a.gql(SUBSCRIPTION, {}, token);
        expectRefused(res, 'BAD_USER_INPUT');
        expect(res.status).toBe(400);
        expect(res.errors?.[0]?.message).toMatch(/subscriptions are served over the websocket on \/graphql/);
      }
      expect(logs.atLeast(LogLevel.warn)).toEqual([]);
      expect(requestLines().map((l) => l.request.errors)).toEqual([['BAD_USER_INPUT'], ['BAD_USER_INPUT'], ['BAD_USER_INPUT']]);
    });
  });

  describe('a document nested 10,000 levels deep', () => {
    const deep = (open: string, close: string) => `query { profiles(service: "s") ${open.repeat(10_000)}totalCount${close.repeat(10_000)} }`;
    const chain = (n: number) =>
      `query { ...F0 } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ...F${i + 1} }`).join(' ')} fragment F${n} on Query { __typename }`;
    const DOCUMENTS: Array<[string, string]> = [
      ['selections', deep('{ a ', '}')],
      ['list values', `query { profiles(service: ${'['.repeat(10_000)}${']'.repeat(10_000)}) { totalCount } }`],
      ['fragments spread in one another', chain(10_000)],
    ];
    const NESTED_TOO_DEEPLY = /^the document is nested too deeply \(more than 256 levels/;

    it.each(DOCUMENTS)('of %s is refused over HTTP with designed text, and no error is logged', async (_label, query) => {
      const res = await a.gql(query);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.status).toBe(400);
      expect(res.errors?.[0]?.message).toMatch(NESTED_TOO_DEEPLY);
      expect(logs.atLeast(LogLevel.warn)).toEqual([]);
    });

    it.each(DOCUMENTS)('of %s is refused over the websocket with an error message, and the socket stays usable', async (_label, query) => {
      const ws = connectWs(server.url, server.adminToken);
      try {
        const refused = await ws.request(query);
        expect(refused.via).toBe('error');
        expect(refused.errors).toHaveLength(1);
        expect(refused.errors?.[0]?.message).toMatch(NESTED_TOO_DEEPLY);
        expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(await ws.request('{ profiles(first: 1) { totalCount } }')).toMatchObject({ via: 'next', data: { profiles: { totalCount: expect.any(Number) } } });
      } finally {
        await ws.dispose();
      }
      expect(logs.atLeast(LogLevel.warn)).toEqual([]);
    });
  });

  describe('the request log', () => {
    beforeAll(async () => {
      await createProfile(a, 'logged');
    });

    it.each([
      ['CONFLICT', 'mutation { createProfile(input: { name: "logged", service: "s", environment: STAGING }) { name } }', Role.ADMIN],
      ['FORBIDDEN', 'mutation { deleteProfile(name: "logged") }', Role.DEVELOPER],
      ['NOT_FOUND', 'mutation { updateProfile(name: "nowhere", input: { description: "d" }) { name } }', Role.ADMIN],
      ['BAD_USER_INPUT', 'mutation { createProfile(input: { name: "Not A Slug", service: "s", environment: STAGING }) { name } }', Role.ADMIN],
    ] as const)('writes %s when that is the code the client got', async (code, query, role) => {
      const res = await a.gql(query, {}, await server.token(role));
      expectRefused(res, code);
      expect(requestLines().map((l) => l.request.errors)).toEqual([[code]]);
      expect(logs.atLeast(LogLevel.warn)).toEqual([]);
    });
  });
});
