import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { Role } from '../../src/domain/enums.js';
import { api, type Api } from '../support/api.js';
import { type Fixtures, makeFixtures } from '../support/operations/fixtures.js';
import { MUTATIONS } from '../support/operations/mutations.js';
import { type Caller, CALLERS, needingTokens, type Operation, rootFieldsOf, tokenOf } from '../support/operations/operation.js';
import { QUERIES, SUBSCRIPTIONS } from '../support/operations/queries.js';
import { BAD_TOKENS, expectFixturesIntact, expectRefusedWith, refusalMessage, runOperation } from '../support/operations/refusals.js';
import { StateProbe } from '../support/state-probe.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/server.js';

/**
 * The authorization table, over HTTP: forged, expired, unsigned, malformed and
 * wrong-role tokens, and none, on every query and mutation; each is refused
 * with the right code and a message naming the caller, and nothing is
 * written. The subscriptions and the websocket: tokens-websocket.test.ts.
 */

const OPERATIONS: readonly Operation[] = needingTokens([...MUTATIONS, ...QUERIES]);

describe('tokens on every operation', () => {
  let server: TestServer;
  let a: Api;
  let probe: StateProbe;
  /** Shared by the tests that must not change anything. */
  let f: Fixtures;

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_WORKERS: 'false', HOTSWAP_HEARTBEAT_INTERVAL_MS: '3600000' });
    a = api(server);
    probe = await StateProbe.open(server);
    f = await makeFixtures(a, 'tokens');
  });
  afterAll(async () => {
    await probe?.close();
    await server?.stop();
  });

  const run = (op: Operation, fx: Fixtures, token: string | null, variables?: Record<string, unknown>) => runOperation(server, op, fx, token, variables);

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
      expect(res.body?.errors?.[0]?.message, `${op.name} as ${caller}`).toMatch(refusalMessage(caller, op));
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

  it('nothing the refused callers sent was written', async () => {
    await expectFixturesIntact(a, f);
  });
});
