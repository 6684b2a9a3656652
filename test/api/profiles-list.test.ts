import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import {
  allProfileNames,
  api,
  type Api,
  createProfile,
  expectRefused,
  ok,
  PROFILE_FIELDS,
  type ProfileShape,
  publish,
  readProfile,
  readVersion,
} from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DELETE = `mutation($n: String!) { deleteProfile(name: $n) }`;
const LIST = `query($service: String, $environment: Environment, $first: Int, $after: String) {
  profiles(service: $service, environment: $environment, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { ${PROFILE_FIELDS} } }
  }
}`;

interface ListResult {
  profiles: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: Array<{ cursor: string; node: ProfileShape }>;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('profiles API', () => {
  let server: TestServer;
  let a: Api;

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('deleteProfile', () => {
    it('deletes as ADMIN, with its versions', async () => {
      await createProfile(a, 'del-me');
      await publish(a, 'del-me', { a: 1 });
      await publish(a, 'del-me', { a: 2 });
      expect(ok(await a.gql(DELETE, { n: 'del-me' }))).toEqual({ deleteProfile: true });
      expect(await readProfile(a, 'del-me')).toBeNull();
      expect(await readVersion(a, 'del-me', 1)).toBeNull();
      expect(await readVersion(a, 'del-me', 2)).toBeNull();
      // A new profile of the same name starts empty: the old versions are gone, not hidden.
      await createProfile(a, 'del-me');
      expect(await readVersion(a, 'del-me', 1)).toBeNull();
      expect((await readProfile(a, 'del-me'))?.versions.totalCount).toBe(0);
      expect((await publish(a, 'del-me', { a: 1 })).version).toBe(1);
    });

    it('refuses a missing profile (NOT_FOUND) and an invalid name (BAD_USER_INPUT)', async () => {
      const before = await allProfileNames(a);
      const missing = await a.gql(DELETE, { n: 'never-was' });
      expectRefused(missing, 'NOT_FOUND');
      expect(missing.errors?.[0]?.message).toContain('never-was');
      expectRefused(await a.gql(DELETE, { n: 'Not A Slug' }), 'BAD_USER_INPUT');
      const huge = await a.gql(DELETE, { n: 'z'.repeat(10 * 1024) });
      expectRefused(huge, 'BAD_USER_INPUT');
      expect(JSON.stringify(huge.errors).length).toBeLessThan(1000);
      expect(await allProfileNames(a)).toEqual(before);
    });
  });

  describe('profiles (list)', () => {
    const service = 'paging';
    const names: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 7; i++) {
        const name = `page-${i}`;
        await createProfile(a, name, { service, environment: i % 2 === 0 ? Environment.STAGING : Environment.PRODUCTION });
        names.push(name);
        await sleep(3); // distinct creation times, so "newest first" is one order
      }
      await createProfile(a, 'page-other', { service: 'paging-other', environment: Environment.STAGING });
    });

    it('pages with first/after: every item exactly once, newest first, right totals', async () => {
      const seen: ProfileShape[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page: ListResult['profiles'] = ok(await a.gql<ListResult>(LIST, { service, first: 2, after })).profiles;
        pages++;
        expect(page.totalCount).toBe(7);
        expect(page.edges.length).toBeLessThanOrEqual(2);
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
        seen.push(...page.edges.map((e) => e.node));
        if (!page.pageInfo.hasNextPage) break;
        expect(page.edges).toHaveLength(2);
        after = page.pageInfo.endCursor;
        expect(pages).toBeLessThan(10);
      }
      expect(pages).toBe(4);
      expect(seen.map((p) => p.name)).toEqual([...names].reverse());
      const times = seen.map((p) => new Date(p.createdAt).getTime());
      expect([...times].sort((x, y) => y - x)).toEqual(times);
    });

    it('readable by DEVELOPER and OPERATOR', async () => {
      for (const role of [Role.DEVELOPER, Role.OPERATOR]) {
        const page = ok(await a.gql<ListResult>(LIST, { service, first: 100 }, await a.token(role))).profiles;
        expect(page.edges.map((e) => e.node.name)).toEqual([...names].reverse());
      }
    });

    it('filters by service and by environment', async () => {
      const staging = ok(await a.gql<ListResult>(LIST, { service, environment: 'STAGING' })).profiles;
      expect(staging.totalCount).toBe(4);
      expect(staging.edges.map((e) => e.node.name)).toEqual(['page-6', 'page-4', 'page-2', 'page-0']);
      expect(staging.edges.every((e) => e.node.environment === 'STAGING' && e.node.service === service)).toBe(true);

      const prod = ok(await a.gql<ListResult>(LIST, { service, environment: 'PRODUCTION', first: 2 })).profiles;
      expect(prod.totalCount).toBe(3);
      expect(prod.edges.map((e) => e.node.name)).toEqual(['page-5', 'page-3']);
      expect(prod.pageInfo.hasNextPage).toBe(true);

      const other = ok(await a.gql<ListResult>(LIST, { service: 'paging-other' })).profiles;
      expect(other.edges.map((e) => e.node.name)).toEqual(['page-other']);
      expect(other.totalCount).toBe(1);

      const none = ok(await a.gql<ListResult>(LIST, { service: 'no-such-service' })).profiles;
      expect(none).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
    });

    it.each([0, -1, 101, 1000])('refuses first: %i with BAD_USER_INPUT', async (first) => {
      const res = await a.gql(LIST, { service, first });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe('first');
    });

    it.each([
      ['garbage', 'not-a-cursor!!'],
      ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
      ['a cursor of another list', Buffer.from(JSON.stringify({ v: 3 })).toString('base64url')],
      ['a JSON array', Buffer.from('[1,2]').toString('base64url')],
      ['too long', 'A'.repeat(5000)],
    ])('refuses %s as cursor with BAD_USER_INPUT', async (_label, after) => {
      const res = await a.gql(LIST, { service, first: 2, after });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/cursor/);
      expect(JSON.stringify(res.errors).length).toBeLessThan(1000);
    });

    it('refuses an unknown environment filter', async () => {
      expectRefused(await a.gql(LIST, { environment: 'PROD' }), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`{ profiles(environment: PROD) { totalCount } }`), 'BAD_USER_INPUT');
    });

  });
});
