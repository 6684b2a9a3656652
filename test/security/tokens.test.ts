import { SignJWT } from 'jose';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { Role } from '../../src/domain/enums.js';
import { algNoneToken, api, type Api, expiredToken, foreignToken } from '../support/api.js';
import { expectSafeResponse, postRaw } from '../support/hostile-responses.js';
import { type Fixtures, makeFixtures } from '../support/operations/fixtures.js';
import { MUTATIONS } from '../support/operations/mutations.js';
import { type Caller, CALLERS, type Operation, rootFieldsOf, tokenOf } from '../support/operations/operation.js';
import { QUERIES, SUBSCRIPTIONS } from '../support/operations/queries.js';
import { StateProbe } from '../support/state-probe.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { connectWs, type Received, type TestWsClient } from '../support/ws-client.js';

/**
 * Forged, expired, unsigned, malformed and wrong-role tokens on every query,
 * mutation and subscription, over HTTP and the websocket: each is refused with
 * the right code, and nothing is written.
 */

const now = () => Math.floor(Date.now() / 1000);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

/** Tokens no operation may accept, whatever it is. */
const BAD_TOKENS: ReadonlyArray<readonly [string, (server: TestServer) => Promise<string>]> = [
  ['forged (signed with another secret)', async () => foreignToken(Role.ADMIN)],
  ['expired an hour ago', async () => expiredToken(Role.ADMIN)],
  ['alg: none', async () => algNoneToken({ sub: 'mallory', role: 'ADMIN', exp: now() + 3600 })],
  ['alg: none, as an instance', async () => algNoneToken({ sub: 'm', role: 'INSTANCE', service: 's', environment: 'STAGING', instanceId: 'x', exp: now() + 3600 })],
  ['alg: RS256 header over an HMAC of the secret (algorithm confusion)', async () => {
    const real = await mintToken(TEST_SECRET, { sub: 'confused', role: Role.ADMIN, expiresInSeconds: 3600 });
    const [, payload, signature] = real.split('.');
    return `${b64url({ alg: 'RS256', typ: 'JWT' })}.${payload}.${signature}`;
  }],
  ['HS512-signed with the right secret (algorithm not allowed)', async () =>
    new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'HS512' }).setSubject('hs512').setExpirationTime(now() + 3600).sign(new TextEncoder().encode(`${TEST_SECRET}${TEST_SECRET}`))],
  ['a developer token with its payload changed to ADMIN', async (server) => {
    const real = await server.token(Role.DEVELOPER, { sub: 'dev' });
    const [header, , signature] = real.split('.');
    return `${header}.${b64url({ sub: 'dev', role: 'ADMIN', exp: now() + 3600 })}.${signature}`;
  }],
  ['malformed: not a JWT', async () => 'not.a.jwt'],
  ['malformed: two segments', async (server) => server.adminToken.split('.').slice(0, 2).join('.')],
  ['malformed: signature cut short', async (server) => server.adminToken.slice(0, -3)],
  ['malformed: binary garbage', async () => Buffer.from([0xff, 0xfe, 0x00, 0x41]).toString('base64url')],
  ['malformed: a JSON header that is not an object', async () => `${Buffer.from('"x"').toString('base64url')}.${b64url({ sub: 'a' })}.sig`],
];

const OPERATIONS: readonly Operation[] = [...MUTATIONS, ...QUERIES];

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
    f = await makeFixtures(a, 'tokens');
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await probe?.close();
    await server?.stop();
  });

  /** POSTs `op` with its valid input on `fx` and `token`; checks the answer is safe. */
  async function run(op: Operation, fx: Fixtures, token: string | null, variables = op.valid(fx)) {
    const body = JSON.stringify({ query: op.document, variables });
    const res = await postRaw(server.url, body, token);
    expectSafeResponse(res, body, new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT', 'VALIDATION_FAILED']));
    return res;
  }

  function expectRefusedWith(res: { status: number; text: string; body: { errors?: Array<{ extensions?: Record<string, unknown> }>; data?: unknown } | null }, op: Operation, code: string): void {
    const context = `${op.name}: HTTP ${res.status} ${res.text.slice(0, 300)}`;
    expect(res.body?.errors?.map((e) => e.extensions?.code), context).toEqual([code]);
    const data = res.body?.data as Record<string, unknown> | null | undefined;
    expect(data?.[op.name] ?? null, context).toBeNull();
  }

  it('the tables cover every query, mutation and subscription of schema.graphql', () => {
    const sdl = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(MUTATIONS.map((o) => o.name).sort()).toEqual(rootFieldsOf(sdl, 'Mutation').sort());
    expect(QUERIES.map((o) => o.name).sort()).toEqual(rootFieldsOf(sdl, 'Query').sort());
    expect(SUBSCRIPTIONS.map((o) => o.name).sort()).toEqual(rootFieldsOf(sdl, 'Subscription').sort());
  });

  describe('over HTTP: a bad token is UNAUTHENTICATED (401) on every operation, and nothing is written', () => {
    it.each(OPERATIONS.map((o) => [o.kind, o.name, o] as const))('%s %s', async (_kind, _name, op) => {
      const before = await probe.snapshot();
      for (const [label, make] of BAD_TOKENS) {
        const res = await run(op, f, await make(server));
        expectRefusedWith(res, op, 'UNAUTHENTICATED');
        expect(res.status, `${op.name} with a token ${label}`).toBe(401);
        expect(res.body?.errors?.[0]?.message, label).toMatch(/token/i);
      }
      const anonymous = await run(op, f, null);
      expectRefusedWith(anonymous, op, 'UNAUTHENTICATED');
      expect(await probe.snapshot()).toEqual(before);
    });

    it('a token that was accepted (and cached) is refused once it expires', { timeout: 15_000 }, async () => {
      const shortLived = await mintToken(TEST_SECRET, { sub: 'short-lived', role: Role.ADMIN, expiresInSeconds: 2 });
      const op = MUTATIONS.find((o) => o.name === 'createProfile')!;
      const first = await run(op, f, shortLived, { input: { name: 'before-expiry', service: f.service, environment: 'STAGING' } });
      expect(first.body?.errors).toBeUndefined();
      await new Promise((r) => setTimeout(r, 2_200));
      const before = await probe.snapshot();
      const late = await run(op, f, shortLived, { input: { name: 'after-expiry', service: f.service, environment: 'STAGING' } });
      expectRefusedWith(late, op, 'UNAUTHENTICATED');
      expect(late.body?.errors?.[0]?.message).toMatch(/expired/);
      expect(await probe.snapshot()).toEqual(before);
    });
  });

  describe('over HTTP: a valid token of the wrong role is FORBIDDEN on every operation, and nothing is written', () => {
    const cases = OPERATIONS.flatMap((op) => CALLERS.filter((c) => !op.allowed.includes(c)).map((caller) => [op.name, caller, op] as const));

    it.each(cases)('%s as %s', async (_name, caller, op) => {
      const before = await probe.snapshot();
      const res = await run(op, f, await tokenOf(server, caller, f));
      expectRefusedWith(res, op, 'FORBIDDEN');
      expect(res.body?.errors?.[0]?.message).toMatch(/may not|may only|registration token|token of instance/);
      expect(await probe.snapshot()).toEqual(before);
    });

    it('covers every operation with at least one refused caller', () => {
      expect(new Set(cases.map(([name]) => name))).toEqual(new Set(OPERATIONS.map((o) => o.name)));
      // A registration token may do nothing but register.
      expect(cases.filter(([, caller]) => caller === 'REGISTRATION').map(([name]) => name).sort()).toEqual(
        OPERATIONS.map((o) => o.name).filter((n) => n !== 'registerInstance').sort(),
      );
    });

    it.each(['refreshInstanceToken', 'heartbeat', 'reportConfigApplied', 'deregisterInstance', 'instance'])(
      "%s with another instance's token is FORBIDDEN",
      async (name) => {
        const op = OPERATIONS.find((o) => o.name === name)!;
        const before = await probe.snapshot();
        const res = await run(op, f, f.otherInstanceToken);
        expectRefusedWith(res, op, 'FORBIDDEN');
        expect(res.body?.errors?.[0]?.message).toContain(`the token of instance ${f.otherInstanceId} may only`);
        expect(await probe.snapshot()).toEqual(before);
      },
    );

    it('a registration token for another service or environment may not register', async () => {
      const op = MUTATIONS.find((o) => o.name === 'registerInstance')!;
      const before = await probe.snapshot();
      for (const input of [
        { service: `${f.service}-x`, environment: 'STAGING', host: 'h' },
        { service: f.service, environment: 'PRODUCTION', host: 'h' },
      ]) {
        expectRefusedWith(await run(op, f, f.registrationToken, { input }), op, 'FORBIDDEN');
      }
      expect(await probe.snapshot()).toEqual(before);
    });

    // The table's allowed callers really are allowed: the refusals above are about the role, not the input.
    it.each(OPERATIONS.map((o) => [o.name, o] as const))('%s is not refused to its allowed callers', async (name, op) => {
      const fx = op.kind === 'query' ? f : await makeFixtures(a, `allowed-${name}`);
      const codes: Array<[Caller, unknown]> = [];
      for (const caller of op.allowed) {
        const res = await run(op, fx, await tokenOf(server, caller, fx));
        codes.push([caller, res.body?.errors?.[0]?.extensions?.code ?? 'OK']);
      }
      for (const [caller, code] of codes) expect(['FORBIDDEN', 'UNAUTHENTICATED'], `${name} as ${caller}`).not.toContain(code);
      // The first allowed caller, on fresh fixtures, succeeds (pause/resume/rollback: the fixture deployment is PENDING, so CONFLICT).
      const expected = ['pauseDeployment', 'resumeDeployment', 'rollbackDeployment'].includes(name) ? 'CONFLICT' : 'OK';
      expect(codes[0]?.[1], `${name} as ${codes[0]?.[0]}`).toBe(expected);
    });
  });

  describe('over the websocket', () => {
    it.each(BAD_TOKENS.map(([label, make]) => [label, make] as const))('connection_init with a token %s is closed with 4403', async (_label, make) => {
      const client = ws(await make(server), true);
      const sub = client.subscribe(SUBSCRIPTIONS[1]!.document, { id: f.deploymentId });
      expect(await client.closed).toBe(4403);
      await sub.ended;
      expect(sub.pending.every((m) => m.data === undefined)).toBe(true);
    });

    it('connection_init without a token is closed with 4403', async () => {
      const client = ws(null, true);
      client.subscribe(SUBSCRIPTIONS[0]!.document, { instanceId: f.instanceId });
      expect(await client.closed).toBe(4403);
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
      expect(JSON.stringify(refused.errors)).not.toMatch(/ {4}at |node_modules|\.ts:/);
      expect(await stillOpen(client)).toBe(true);
      const after = await allowedProbe(client, caller);
      expect(after.errors, JSON.stringify(after.errors)).toBeUndefined();
      expect(after.data).toBeTruthy();
      expect(await stillOpen(client)).toBe(true);
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
    // Every profile the fixtures made is intact, and no instance registered under a refused token.
    const res = await a.gql<{ profile: { versions: { totalCount: number } } | null; instances: Array<{ host: string }> }>(
      'query($n: String!, $s: String!) { profile(name: $n) { versions { totalCount } } instances(service: $s) { host } }',
      { n: f.profile, s: f.service },
    );
    expect(res.data?.profile?.versions.totalCount).toBe(2);
    const hosts = (res.data?.instances ?? []).map((i) => i.host).sort();
    // The fixtures' two instances, plus one registered by each REGISTRATION probe (allowed) above.
    expect(hosts.filter((h) => h !== 'ws-probe')).toEqual(['fixture-host', 'fixture-other']);
  });
});
