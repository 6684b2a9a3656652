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
} from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const CREATE = `mutation($input: CreateProfileInput!) { createProfile(input: $input) { ${PROFILE_FIELDS} } }`;
const UPDATE = `mutation($n: String!, $input: UpdateProfileInput!) { updateProfile(name: $n, input: $input) { ${PROFILE_FIELDS} } }`;
const GET = `query($n: String!) { profile(name: $n) { ${PROFILE_FIELDS} } }`;

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
});
