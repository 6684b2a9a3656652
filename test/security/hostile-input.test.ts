import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused } from '../support/api.js';
import { captureLogs, LogLevel, type LogLine } from '../support/log-capture.js';
import { startTestServer, type TestServer } from '../support/server.js';

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
