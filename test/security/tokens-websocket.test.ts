import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { Role } from '../../src/domain/enums.js';
import { api, type Api } from '../support/api.js';
import { type Fixtures, makeFixtures } from '../support/operations/fixtures.js';
import { MUTATIONS } from '../support/operations/mutations.js';
import { type Caller, CALLERS, needingTokens, type Operation, tokenOf } from '../support/operations/operation.js';
import { QUERIES, SUBSCRIPTIONS } from '../support/operations/queries.js';
import { BAD_TOKENS, expectFixturesIntact, refusalMessage } from '../support/operations/refusals.js';
import { StateProbe } from '../support/state-probe.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { connectWs, type Received, type TestWsClient } from '../support/ws-client.js';

/**
 * The authorization table over the websocket: every subscription with every
 * bad token and with none, every subscription, query and mutation with every
 * caller it refuses (FORBIDDEN, naming the caller; the connection stays open
 * and nothing is written), and with every caller it allows. Over HTTP:
 * tokens.test.ts.
 */

const OPERATIONS: readonly Operation[] = needingTokens([...MUTATIONS, ...QUERIES]);

describe('tokens on every operation', () => {
  let server: TestServer;
  let a: Api;
  let probe: StateProbe;
  /** Shared by the tests that must not change anything. */
  let f: Fixtures;
  const sockets: TestWsClient[] = [];
  /** `lazy: false`: the socket stays open with no operation running, so "still open" can be checked. */
  const ws = (token: string | null, lazy = false) => {
    const client = connectWs(server.url, token, { lazy });
    sockets.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_WORKERS: 'false', HOTSWAP_HEARTBEAT_INTERVAL_MS: '3600000' });
    a = api(server);
    probe = await StateProbe.open(server);
    f = await makeFixtures(a, 'tokens-ws');
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await probe?.close();
    await server?.stop();
  });

  describe('over the websocket', () => {
    const badTokenCases = SUBSCRIPTIONS.flatMap((op) => BAD_TOKENS.map(([label, make]) => [op.name, label, op, make] as const));

    it.each(badTokenCases)('subscribing to %s with a token %s: connection_init is closed with 4403, nothing delivered', async (_name, _label, op, make) => {
      const client = ws(await make(server), true);
      const sub = client.subscribe(op.document, op.valid(f));
      expect(await client.closed).toBe(4403);
      await sub.ended;
      expect(sub.pending.every((m) => m.data === undefined)).toBe(true);
    });

    it.each(SUBSCRIPTIONS.map((op) => [op.name, op] as const))('subscribing to %s without a token: connection_init is closed with 4403, nothing delivered', async (_name, op) => {
      const client = ws(null, true);
      const sub = client.subscribe(op.document, op.valid(f));
      expect(await client.closed).toBe(4403);
      await sub.ended;
      expect(sub.pending.every((m) => m.data === undefined)).toBe(true);
    });

    /** True when the socket has not closed (checked after the event loop had a chance to deliver a close). */
    async function stillOpen(client: TestWsClient): Promise<boolean> {
      const closed = await Promise.race([client.closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 150))]);
      return !closed;
    }

    /** An operation the caller may run, to show the connection still works after a refusal. */
    async function allowedProbe(client: TestWsClient, caller: Caller): Promise<Received<Record<string, unknown>>> {
      switch (caller) {
        case 'INSTANCE':
          return client.request('query($id: ID!) { instance(id: $id) { id } }', { id: f.instanceId });
        case 'REGISTRATION':
          return client.request(
            'mutation($s: String!) { registerInstance(input: { service: $s, environment: STAGING, host: "ws-probe" }) { instance { id } } }',
            { s: f.service },
          );
        default:
          return client.request('query($id: ID!) { deployment(id: $id) { id } }', { id: f.deploymentId });
      }
    }

    const subscriptionCases = SUBSCRIPTIONS.flatMap((op) => CALLERS.filter((c) => !op.allowed.includes(c)).map((caller) => [op.name, caller, op] as const));

    it.each(subscriptionCases)('subscribing to %s as %s gets an `error` FORBIDDEN and the connection stays open', async (_name, caller, op) => {
      const client = ws(await tokenOf(server, caller, f));
      const refused = await client.subscribe(op.document, op.valid(f)).next();
      expect(refused.via).toBe('error');
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(refused.errors?.[0]?.message, `${op.name} as ${caller}`).toMatch(refusalMessage(caller, op));
      expect(JSON.stringify(refused.errors)).not.toMatch(/ {4}at |node_modules|\.ts:/);
      expect(await stillOpen(client)).toBe(true);
      const after = await allowedProbe(client, caller);
      expect(after.errors, JSON.stringify(after.errors)).toBeUndefined();
      expect(after.data).toBeTruthy();
      expect(await stillOpen(client)).toBe(true);
    });

    const allowedSubscriptionCases = SUBSCRIPTIONS.flatMap((op) => op.allowed.map((caller) => [op.name, caller, op] as const));

    // The table's allowed callers really are allowed: the refusals above are about the caller, not the input.
    it.each(allowedSubscriptionCases)('subscribing to %s as %s is not refused: its first message has data', async (_name, caller, op) => {
      const client = ws(await tokenOf(server, caller, f));
      const first = await client.subscribe<Record<string, unknown>>(op.document, op.valid(f)).next();
      expect(first.errors, JSON.stringify(first.errors)).toBeUndefined();
      expect(first.data?.[op.name]).toBeTruthy();
      await client.dispose();
    });

    it("an INSTANCE subscribing to another instance's configUpdates gets FORBIDDEN, then its own subscription works", async () => {
      const client = ws(f.instanceToken);
      const refused = await client.subscribe(SUBSCRIPTIONS[0]!.document, { instanceId: f.otherInstanceId }).next();
      expect(refused.via).toBe('error');
      expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      expect(refused.errors?.[0]?.message).toContain(`the token of instance ${f.instanceId} may only`);
      expect(await stillOpen(client)).toBe(true);
      // Its own feed opens on the same socket: first the active version of its profile.
      const own = client.subscribe<{ configUpdates: { profileName: string; version: number } }>(SUBSCRIPTIONS[0]!.document, { instanceId: f.instanceId });
      expect((await own.next()).data?.configUpdates).toMatchObject({ profileName: f.profile, version: 1 });
      own.close();
    });

    it('a registration token subscribing to any instance\'s configUpdates gets FORBIDDEN', async () => {
      const client = ws(f.registrationToken);
      for (const instanceId of [f.instanceId, f.otherInstanceId, '00000000-0000-4000-8000-000000000000']) {
        const refused = await client.subscribe(SUBSCRIPTIONS[0]!.document, { instanceId }).next();
        expect(refused.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
        expect(refused.errors?.[0]?.message).toMatch(/registration token may only register/);
      }
      expect(await stillOpen(client)).toBe(true);
    });

    const wsCases = OPERATIONS.flatMap((op) => CALLERS.filter((c) => !op.allowed.includes(c)).map((caller) => [op.name, caller, op] as const));

    it.each(wsCases)('%s as %s over the websocket is FORBIDDEN and writes nothing', async (_name, caller, op) => {
      const before = await probe.snapshot();
      const client = ws(await tokenOf(server, caller, f));
      const res = await client.request(op.document, op.valid(f));
      expect(res.errors?.map((e) => e.extensions?.code), JSON.stringify(res)).toEqual(['FORBIDDEN']);
      expect(res.errors?.[0]?.message, `${op.name} as ${caller}`).toMatch(refusalMessage(caller, op));
      expect((res.data as Record<string, unknown> | null | undefined)?.[op.name] ?? null).toBeNull();
      expect(await stillOpen(client)).toBe(true);
      expect(await probe.snapshot()).toEqual(before);
      await client.dispose();
    });

    it('a socket whose token expires is closed with 4403 and its operations stop', { timeout: 15_000 }, async () => {
      const token = await mintToken(TEST_SECRET, { sub: 'ws-expiring', role: Role.DEVELOPER, expiresInSeconds: 2 });
      const client = ws(token, true);
      const events = client.subscribe<{ deploymentEvents: { type: string } }>(SUBSCRIPTIONS[1]!.document, { id: f.deploymentId });
      expect((await events.next()).data?.deploymentEvents.type).toBe('CURRENT_STATE');
      expect(await client.closed).toBe(4403);
      await events.ended;
      // The same expired token cannot open a new connection.
      const again = ws(token, true);
      again.subscribe(SUBSCRIPTIONS[1]!.document, { id: f.deploymentId });
      expect(await again.closed).toBe(4403);
    });
  });

  it('nothing the refused callers sent was written', async () => {
    await expectFixturesIntact(a, f);
  });
});
