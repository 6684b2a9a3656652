import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import {
  allProfileNames,
  api,
  type Api,
  assertSafeErrors,
  codeOf,
  createProfile,
  deepConfig,
  expectRefused,
  ok,
  publish,
  readProfile,
} from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PUBLISH = `mutation($p: String!, $input: PublishVersionInput!) { publishVersion(profileName: $p, input: $input) { version } }`;

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

describe('protection: malformed requests, limits and health', () => {
  let server: TestServer;
  let a: Api;

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('request bodies', () => {
    it.each([
      ['truncated JSON', '{"query": "mutation { createProfile(input: {name: \\"broken\\", service: \\"s\\", environment: STAGING}) { name } }"'],
      ['a bare word', 'hello'],
      ['single quotes', "{'query': '{ profiles { totalCount } }'}"],
      ['a trailing comma', '{"query": "{ profiles { totalCount } }",}'],
    ])('refuses %s with HTTP 400 and BAD_USER_INPUT, executing nothing', async (_label, body) => {
      const before = await allProfileNames(a);
      const res = await a.raw(body);
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0]?.message).toMatch(/JSON/);
      expect(res.body.data).toBeUndefined();
      expect(await allProfileNames(a)).toEqual(before);
      expect(await readProfile(a, 'broken')).toBeNull();
    });

    it('refuses a body without a query with BAD_USER_INPUT', async () => {
      const res = await a.raw(JSON.stringify({ variables: {} }));
      expect(res.status).toBe(400);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('refuses GraphQL syntax errors with BAD_USER_INPUT', async () => {
      const res = await a.gql(`mutation { createProfile(input: { name: "syntax" `);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(await readProfile(a, 'syntax')).toBeNull();
    });

    it('refuses an unknown field with BAD_USER_INPUT', async () => {
      expectRefused(await a.gql(`{ profiles { totalCount secretField } }`), 'BAD_USER_INPUT');
    });
  });

  describe('config data limits', () => {
    it('refuses config nested 10,000 levels deep (variable) with BAD_USER_INPUT and keeps answering', async () => {
      await createProfile(a, 'deep-var');
      // The body is written by hand: JSON.stringify itself may overflow the test's stack at this depth.
      const data = `${'{"a":'.repeat(9_999)}{}${'}'.repeat(9_999)}`;
      const { body: res } = await a.raw(`{"query":${JSON.stringify(PUBLISH)},"variables":{"p":"deep-var","input":{"data":${data}}}}`);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/nested too deeply/);
      // Past the request guard (256 levels), the config's own limit names the field.
      const hundred = await a.gql(PUBLISH, { p: 'deep-var', input: { data: deepConfig(100) } });
      expectRefused(hundred, 'BAD_USER_INPUT');
      expect(hundred.errors?.[0]?.extensions?.field).toBe('data');
      const profile = await readProfile(a, 'deep-var');
      expect(profile).toMatchObject({ latestVersion: null, versions: { totalCount: 0 } });
      // 64 levels is the default limit: still accepted.
      expect((await publish(a, 'deep-var', deepConfig(64))).version).toBe(1);
      expectRefused(await a.gql(PUBLISH, { p: 'deep-var', input: { data: deepConfig(65) } }), 'BAD_USER_INPUT');
      const health = await getJson(server.url.replace('/graphql', '/healthz'));
      expect(health.status).toBe(200);
    });

    it('refuses config nested 10,000 levels deep written as a literal, without a server error', async () => {
      await createProfile(a, 'deep-literal');
      const literal = '{a: '.repeat(10_000) + '{}' + '}'.repeat(10_000);
      const res = await a.gql(`mutation { publishVersion(profileName: "deep-literal", input: { data: ${literal} }) { version } }`);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(await readProfile(a, 'deep-literal')).toMatchObject({ versions: { totalCount: 0 } });
      expect(ok(await a.gql(`{ profiles(first: 1) { totalCount } }`))).toBeTruthy();
    });

    describe('with HOTSWAP_MAX_CONFIG_BYTES=2048', () => {
      let small: TestServer;
      let s: Api;
      beforeAll(async () => {
        small = await startTestServer({ HOTSWAP_MAX_CONFIG_BYTES: '2048' });
        s = api(small);
        await createProfile(s, 'sized');
      });
      afterAll(async () => {
        await small?.stop();
      });

      it('refuses a ~3 KB config with BAD_USER_INPUT naming both sizes, writing nothing', async () => {
        const res = await s.gql(PUBLISH, { p: 'sized', input: { data: { blob: 'x'.repeat(3000) } } });
        expectRefused(res, 'BAD_USER_INPUT');
        expect(res.errors?.[0]?.message).toMatch(/too large/);
        expect(res.errors?.[0]?.extensions).toMatchObject({ field: 'data', maxBytes: 2048, bytes: 3011 });
        expect(await readProfile(s, 'sized')).toMatchObject({ latestVersion: null, versions: { totalCount: 0 } });
      });

      it('accepts exactly 2048 canonical bytes and refuses 2049', async () => {
        // {"s":"…"} is 8 bytes around the string
        expectRefused(await s.gql(PUBLISH, { p: 'sized', input: { data: { s: 'y'.repeat(2041) } } }), 'BAD_USER_INPUT');
        const accepted = ok(await s.gql<{ publishVersion: { version: number } }>(PUBLISH, { p: 'sized', input: { data: { s: 'y'.repeat(2040) } } }));
        expect(accepted.publishVersion.version).toBe(1);
        // Multi-byte characters count as bytes: 1021 × "é" = 2042 bytes + 8 > 2048.
        expectRefused(await s.gql(PUBLISH, { p: 'sized', input: { data: { s: 'é'.repeat(1021) } } }), 'BAD_USER_INPUT');
        expect((await readProfile(s, 'sized'))?.versions.totalCount).toBe(1);
      });

      it('refuses a body over the body limit with HTTP 413 and BAD_USER_INPUT, executing nothing', async () => {
        const body = JSON.stringify({
          query: `mutation($d: String) { createProfile(input: { name: "too-big", service: "s", environment: STAGING, description: $d }) { name } }`,
          variables: { d: 'z'.repeat(100 * 1024) },
        });
        const res = await s.raw(body);
        expect(res.status).toBe(413);
        expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(res.body.errors?.[0]?.message).toMatch(/larger than the limit/);
        expect(JSON.stringify(res.body).length).toBeLessThan(1000);
        expect(await readProfile(s, 'too-big')).toBeNull();
      });
    });
  });

  describe('query limits', () => {
    const deepIntrospection = (levels: number) =>
      `{ __type(name: "Query") { ${'ofType { '.repeat(levels - 2)}name${' }'.repeat(levels - 2)} } }`;

    it('refuses a query nested 50 levels deep with BAD_USER_INPUT, without executing it', async () => {
      const res = await a.gql(deepIntrospection(50));
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.message).toMatch(/depth/i);
    });

    it('accepts the same query within the depth limit (12)', async () => {
      const res = await a.gql<{ __type: { ofType: null } }>(deepIntrospection(12));
      expect(ok(res)).toEqual({ __type: { ofType: null } });
    });

    it('refuses a query over the cost limit with BAD_USER_INPUT', async () => {
      const res = await a.gql(`{ profiles(first: 100) { edges { node { versions(first: 100) { edges { node { version data } } } } } } }`);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/cost/i);
    });

    it('does not run a mutation that is part of a refused document', async () => {
      const deep = `${'ofType { '.repeat(48)}name${' }'.repeat(48)}`;
      const query = `
        mutation M { createProfile(input: { name: "in-refused-doc", service: "s", environment: STAGING }) { name } }
        query Q { __type(name: "Query") { ${deep} } }`;
      const { body: res } = await a.raw(JSON.stringify({ query, operationName: 'M' }));
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.data ?? null).toBeNull();
      expect(await readProfile(a, 'in-refused-doc')).toBeNull();
    });
  });

  describe('NUL characters in text input never cause a server error', () => {
    const cases: Array<[string, string, Record<string, unknown>]> = [
      ['createProfile description', `mutation($d: String) { createProfile(input: { name: "nul-desc", service: "s", environment: STAGING, description: $d }) { description } }`, { d: 'a\u0000b' }],
      ['updateProfile description', `mutation($d: String) { updateProfile(name: "nul-target", input: { description: $d }) { description } }`, { d: 'a\u0000b' }],
      ['publishVersion description', `mutation($d: String) { publishVersion(profileName: "nul-target", input: { data: { k: 1 }, description: $d }) { description } }`, { d: 'a\u0000b' }],
      ['publishVersion key', `mutation($data: JSON!) { publishVersion(profileName: "nul-target", input: { data: $data }) { version } }`, { data: { 'k\u0000': 1 } }],
      ['profile name lookup', `query($n: String!) { profile(name: $n) { name } }`, { n: 'nul\u0000target' }],
      ['profiles service filter', `query($s: String) { profiles(service: $s) { totalCount } }`, { s: 'svc\u0000' }],
      ['version lookup', `query($p: String!) { version(profileName: $p, version: 1) { version } }`, { p: 'nul\u0000target' }],
    ];

    beforeAll(async () => {
      await createProfile(a, 'nul-target', { description: 'clean' });
    });

    it.each(cases)('%s', async (_label, query, variables) => {
      const before = await readProfile(a, 'nul-target');
      const res = await a.gql<Record<string, unknown>>(query, variables);
      if (res.errors) {
        expectRefused(res, 'BAD_USER_INPUT');
        expect(await readProfile(a, 'nul-target')).toEqual(before);
      } else {
        // Accepted: it must then read back as sent.
        const value = Object.values(res.data ?? {})[0] as Record<string, unknown> | null;
        if (value && 'description' in value) expect(value.description).toBe('a\u0000b');
      }
    });
  });

  describe('health endpoints', () => {
    it('/healthz answers 200', async () => {
      const res = await getJson(server.url.replace('/graphql', '/healthz'));
      expect(res).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('/readyz answers 200 {status: "ready"} with the database up', async () => {
      const res = await getJson(server.url.replace('/graphql', '/readyz'));
      expect(res).toEqual({ status: 200, body: { status: 'ready' } });
    });

    it('/readyz checks Redis too when configured', async () => {
      const withRedis = await startTestServer({ REDIS_URL: inject('redisUrl') });
      try {
        const res = await getJson(withRedis.url.replace('/graphql', '/readyz'));
        expect(res).toEqual({ status: 200, body: { status: 'ready' } });
      } finally {
        await withRedis.stop();
      }
    });
  });

  describe('rate limits (RATE_LIMIT_PER_SECOND=1: bursts of 10)', () => {
    let limited: TestServer;
    let l: Api;
    beforeAll(async () => {
      limited = await startTestServer({ RATE_LIMIT_PER_SECOND: '1' });
      l = api(limited);
    });
    afterAll(async () => {
      await limited?.stop();
    });

    it('the 11th+ rapid request of one caller is RATE_LIMITED (HTTP 429), another caller still passes', async () => {
      const hog = await limited.token(Role.DEVELOPER, { sub: 'hog' });
      for (let i = 1; i <= 10; i++) {
        const res = await l.gql(`{ profiles(first: 1) { totalCount } }`, {}, hog);
        expect(res.errors, `request ${i}`).toBeUndefined();
      }
      for (let i = 11; i <= 13; i++) {
        const res = await l.gql(`mutation { createProfile(input: { name: "hog-${i}", service: "s", environment: STAGING }) { name } }`, {}, hog);
        expectRefused(res, 'RATE_LIMITED');
        expect(res.status).toBe(429);
        expect(res.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      }
      const other = await limited.token(Role.DEVELOPER, { sub: 'polite' });
      const res = await l.gql<{ profiles: { totalCount: number } }>(`{ profiles(first: 1) { totalCount } }`, {}, other);
      expect(ok(res).profiles.totalCount).toBe(0); // nothing was created by the refused mutations
    });

    it('limits anonymous callers by address', async () => {
      const codes: unknown[] = [];
      for (let i = 0; i < 12; i++) codes.push(codeOf(await l.gql(`{ profiles { totalCount } }`, {}, null)));
      expect(codes.slice(0, 10)).toEqual(Array(10).fill('UNAUTHENTICATED'));
      expect(codes.slice(10)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    });

    it('with Redis, the budget is shared by all replicas', async () => {
      const env = { RATE_LIMIT_PER_SECOND: '1', REDIS_URL: inject('redisUrl') };
      const [r1, r2] = await Promise.all([startTestServer(env), startTestServer(env)]);
      try {
        const sub = `shared-${randomBytes(6).toString('hex')}`;
        const token = await r1.token(Role.OPERATOR, { sub });
        const results: unknown[] = [];
        for (let i = 0; i < 12; i++) {
          const res = await (i % 2 === 0 ? r1 : r2).gql(`{ profiles(first: 1) { totalCount } }`, {}, token);
          assertSafeErrors(res);
          results.push(codeOf(res) ?? 'OK');
        }
        expect(results.slice(0, 10)).toEqual(Array(10).fill('OK'));
        expect(results.slice(10)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
        const fresh = await r2.token(Role.OPERATOR, { sub: `${sub}-other` });
        expect(codeOf(await r2.gql(`{ profiles(first: 1) { totalCount } }`, {}, fresh))).toBeUndefined();
      } finally {
        await Promise.all([r1.stop(), r2.stop()]);
      }
    });
  });
});
