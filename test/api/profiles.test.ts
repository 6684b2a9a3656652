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

const CREATE = `mutation($input: CreateProfileInput!) { createProfile(input: $input) { ${PROFILE_FIELDS} } }`;
const UPDATE = `mutation($n: String!, $input: UpdateProfileInput!) { updateProfile(name: $n, input: $input) { ${PROFILE_FIELDS} } }`;
const DELETE = `mutation($n: String!) { deleteProfile(name: $n) }`;
const GET = `query($n: String!) { profile(name: $n) { ${PROFILE_FIELDS} } }`;
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

  describe('createProfile', () => {
    it('creates a profile as DEVELOPER and it persists', async () => {
      const dev = await a.token(Role.DEVELOPER, 'dev-alice');
      const input = { name: 'checkout-api', service: 'checkout', environment: 'PRODUCTION', description: 'Checkout settings' };
      const created = ok(await a.gql<{ createProfile: ProfileShape }>(CREATE, { input }, dev)).createProfile;
      expect(created).toMatchObject(input);
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(created.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(created.updatedAt).toBe(created.createdAt);

      const read = await readProfile(a, 'checkout-api');
      expect(read).toMatchObject({ ...input, id: created.id, createdAt: created.createdAt, latestVersion: null, versions: { totalCount: 0 } });
    });

    it('refuses a caller without a token (UNAUTHENTICATED) and writes nothing', async () => {
      const res = await a.gql(CREATE, { input: { name: 'anon-made', service: 's', environment: 'STAGING' } }, null);
      expectRefused(res, 'UNAUTHENTICATED');
      expect(await readProfile(a, 'anon-made')).toBeNull();
    });

    it.each([Role.OPERATOR, Role.INSTANCE])('refuses role %s (FORBIDDEN) and writes nothing', async (role) => {
      const token = role === Role.INSTANCE ? await a.instanceToken() : await a.token(role);
      const name = `by-${role.toLowerCase()}`;
      const res = await a.gql(CREATE, { input: { name, service: 's', environment: 'STAGING' } }, token);
      expectRefused(res, 'FORBIDDEN');
      expect(res.errors?.[0]?.message).toContain(role);
      expect(await readProfile(a, name)).toBeNull();
    });

    it.each([
      ['Bad_Name', 'uppercase and underscore'],
      ['-x', 'leading hyphen'],
      ['x-', 'trailing hyphen'],
      ['', 'empty'],
      ['a'.repeat(64), '64 characters'],
      ['has space', 'a space'],
      ['ünïcode', 'non-ASCII'],
    ])('refuses the name %j (%s) with BAD_USER_INPUT and writes nothing', async (name) => {
      const before = await allProfileNames(a);
      const res = await a.gql(CREATE, { input: { name, service: 's', environment: 'STAGING' } });
      expectRefused(res, 'BAD_USER_INPUT');
      // Past the documented length it is refused where the argument enters (input.name), before the slug rule.
      expect(res.errors?.[0]?.extensions?.field).toMatch(/^(input\.)?name$/);
      expect(res.errors?.[0]?.message).toMatch(/profile name|^input\.name is too long \(64 characters\): at most 63/);
      expect(await allProfileNames(a)).toEqual(before);
    });

    it('refuses a 10 KB name without echoing it back', async () => {
      const before = await allProfileNames(a);
      const name = 'a'.repeat(10 * 1024);
      const res = await a.gql(CREATE, { input: { name, service: 's', environment: 'STAGING' } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(JSON.stringify(res.errors).length).toBeLessThan(1000);
      expect(JSON.stringify(res.errors)).not.toContain('a'.repeat(100));
      expect(await allProfileNames(a)).toEqual(before);
    });

    it('refuses a service name outside the slug pattern', async () => {
      const res = await a.gql(CREATE, { input: { name: 'good-name', service: 'Bad Service', environment: 'STAGING' } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe('service');
      expect(await readProfile(a, 'good-name')).toBeNull();
    });

    it('refuses a description over 1000 characters', async () => {
      const res = await a.gql(CREATE, { input: { name: 'long-desc', service: 's', environment: 'STAGING', description: 'd'.repeat(1001) } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe('description');
      expect(await readProfile(a, 'long-desc')).toBeNull();
    });

    it('refuses an unknown environment sent as a variable', async () => {
      const res = await a.gql(CREATE, { input: { name: 'prod-var', service: 's', environment: 'PROD' } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/PROD/);
      expect(await readProfile(a, 'prod-var')).toBeNull();
    });

    it('refuses an unknown environment written as a literal (enum and string)', async () => {
      for (const literal of ['PROD', '"PROD"', '"PRODUCTION"']) {
        const res = await a.gql(
          `mutation { createProfile(input: { name: "prod-lit", service: "s", environment: ${literal} }) { name } }`,
        );
        expectRefused(res, 'BAD_USER_INPUT');
        expect(res.data ?? null).toBeNull();
      }
      expect(await readProfile(a, 'prod-lit')).toBeNull();
    });

    it('refuses a missing required field', async () => {
      const res = await a.gql(`mutation { createProfile(input: { name: "no-env", service: "s" }) { name } }`);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(await readProfile(a, 'no-env')).toBeNull();
    });

    it('refuses a duplicate name with CONFLICT and keeps the original', async () => {
      const original = await createProfile(a, 'dup-name', { service: 'first', description: 'original' });
      const res = await a.gql(CREATE, { input: { name: 'dup-name', service: 'second', environment: 'PRODUCTION', description: 'imposter' } });
      expectRefused(res, 'CONFLICT');
      expect(res.errors?.[0]?.message).toContain('dup-name');
      const read = await readProfile(a, 'dup-name');
      expect(read).toMatchObject({ id: original.id, service: 'first', environment: 'STAGING', description: 'original' });
      expect((await allProfileNames(a)).filter((n) => n === 'dup-name')).toHaveLength(1);
    });
  });

  describe('profile', () => {
    it('reads one profile with its latest version, for every reading role', async () => {
      const created = await createProfile(a, 'read-me', { service: 'reader', environment: Environment.DEVELOPMENT, description: 'r' });
      await publish(a, 'read-me', { v: 1 });
      await publish(a, 'read-me', { v: 2 });
      for (const role of [Role.DEVELOPER, Role.OPERATOR, Role.ADMIN]) {
        const res = await a.gql<{ profile: ProfileShape & { latestVersion: { version: number; data: unknown } } }>(
          `query($n: String!) { profile(name: $n) { ${PROFILE_FIELDS} latestVersion { version data } activeVersion { version } } }`,
          { n: 'read-me' },
          await a.token(role),
        );
        const { updatedAt: _u, ...stable } = created;
        expect(ok(res).profile).toMatchObject({ ...stable, latestVersion: { version: 2, data: { v: 2 } }, activeVersion: null });
      }
    });

    it('returns null for a name that does not exist', async () => {
      expect(ok(await a.gql(GET, { n: 'no-such-profile' }))).toEqual({ profile: null });
    });

    it('does not echo a 10 KB name and does not fail', async () => {
      const res = await a.gql(GET, { n: 'x'.repeat(10 * 1024) });
      if (res.errors) {
        expectRefused(res, 'BAD_USER_INPUT');
        expect(JSON.stringify(res.errors).length).toBeLessThan(1000);
      } else {
        expect(res.data).toEqual({ profile: null });
      }
    });

    it('refuses a caller without a token', async () => {
      await createProfile(a, 'secret-profile');
      expectRefused(await a.gql(GET, { n: 'secret-profile' }, null), 'UNAUTHENTICATED');
    });

    it('refuses an INSTANCE token (FORBIDDEN)', async () => {
      expectRefused(await a.gql(GET, { n: 'secret-profile' }, await a.instanceToken()), 'FORBIDDEN');
    });

    it('refuses a name of the wrong type (BAD_USER_INPUT)', async () => {
      expectRefused(await a.gql(GET, { n: 42 }), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`{ profile { name } }`), 'BAD_USER_INPUT');
    });
  });

  describe('updateProfile', () => {
    it('updates the description as DEVELOPER and it persists', async () => {
      const created = await createProfile(a, 'upd-me', { description: 'old' });
      await sleep(5);
      const dev = await a.token(Role.DEVELOPER);
      const updated = ok(await a.gql<{ updateProfile: ProfileShape }>(UPDATE, { n: 'upd-me', input: { description: 'new' } }, dev)).updateProfile;
      expect(updated).toMatchObject({ id: created.id, name: 'upd-me', service: created.service, environment: created.environment, description: 'new', createdAt: created.createdAt });
      expect(new Date(updated.updatedAt).getTime()).toBeGreaterThan(new Date(created.updatedAt).getTime());
      expect(await readProfile(a, 'upd-me')).toMatchObject({ description: 'new', updatedAt: updated.updatedAt });

      const cleared = ok(await a.gql<{ updateProfile: ProfileShape }>(UPDATE, { n: 'upd-me', input: { description: null } }, dev)).updateProfile;
      expect(cleared.description).toBeNull();
      expect((await readProfile(a, 'upd-me'))?.description).toBeNull();
    });

    it('refuses a caller without a token and writes nothing', async () => {
      const before = await createProfile(a, 'upd-anon', { description: 'keep' });
      expectRefused(await a.gql(UPDATE, { n: 'upd-anon', input: { description: 'changed' } }, null), 'UNAUTHENTICATED');
      expect(await readProfile(a, 'upd-anon')).toMatchObject({ description: 'keep', updatedAt: before.updatedAt });
    });

    it.each([Role.OPERATOR, Role.INSTANCE])('refuses role %s (FORBIDDEN) and writes nothing', async (role) => {
      const name = `upd-${role.toLowerCase()}`;
      const before = await createProfile(a, name, { description: 'keep' });
      const token = role === Role.INSTANCE ? await a.instanceToken() : await a.token(role);
      expectRefused(await a.gql(UPDATE, { n: name, input: { description: 'changed' } }, token), 'FORBIDDEN');
      expect(await readProfile(a, name)).toMatchObject({ description: 'keep', updatedAt: before.updatedAt });
    });

    it('refuses a missing profile with NOT_FOUND and creates nothing', async () => {
      const res = await a.gql(UPDATE, { n: 'ghost-profile', input: { description: 'x' } });
      expectRefused(res, 'NOT_FOUND');
      expect(res.errors?.[0]?.message).toContain('ghost-profile');
      expect(await readProfile(a, 'ghost-profile')).toBeNull();
    });

    it('refuses a too long description and an invalid name, writing nothing', async () => {
      const before = await createProfile(a, 'upd-bad', { description: 'keep' });
      expectRefused(await a.gql(UPDATE, { n: 'upd-bad', input: { description: 'x'.repeat(1001) } }), 'BAD_USER_INPUT');
      expectRefused(await a.gql(UPDATE, { n: 'Upd_Bad', input: { description: 'x' } }), 'BAD_USER_INPUT');
      expect(await readProfile(a, 'upd-bad')).toMatchObject({ description: 'keep', updatedAt: before.updatedAt });
    });
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

    it('refuses a caller without a token and deletes nothing', async () => {
      await createProfile(a, 'del-anon');
      expectRefused(await a.gql(DELETE, { n: 'del-anon' }, null), 'UNAUTHENTICATED');
      expect(await readProfile(a, 'del-anon')).not.toBeNull();
    });

    it.each([Role.DEVELOPER, Role.OPERATOR, Role.INSTANCE])('refuses role %s (FORBIDDEN) and deletes nothing', async (role) => {
      const name = `del-${role.toLowerCase()}`;
      await createProfile(a, name);
      await publish(a, name, { keep: true });
      const token = role === Role.INSTANCE ? await a.instanceToken() : await a.token(role);
      const res = await a.gql(DELETE, { n: name }, token);
      expectRefused(res, 'FORBIDDEN');
      expect(await readProfile(a, name)).not.toBeNull();
      expect((await readVersion(a, name, 1))?.data).toEqual({ keep: true });
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

    it('refuses a caller without a token', async () => {
      expectRefused(await a.gql(LIST, { service }, null), 'UNAUTHENTICATED');
    });

    it('refuses an INSTANCE token (FORBIDDEN)', async () => {
      expectRefused(await a.gql(LIST, { service }, await a.instanceToken()), 'FORBIDDEN');
    });
  });
});
