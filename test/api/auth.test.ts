import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import {
  api,
  type Api,
  assertSafeErrors,
  createProfile,
  expectRefused,
  expiredToken,
  ok,
  publish,
  readProfile,
  readVersion,
  signedToken,
} from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const CREATE = `mutation($name: String!) { createProfile(input: { name: $name, service: "auth", environment: STAGING }) { name } }`;
const LIST = `{ profiles(first: 10) { totalCount } }`;

describe('authentication and roles', () => {
  let server: TestServer;
  let a: Api;

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('tokens that must be refused (UNAUTHENTICATED, nothing written)', () => {
    // Every bad token on every operation, and every caller an operation refuses: the authorization table, test/security/tokens*.test.ts.
    const now = () => Math.floor(Date.now() / 1000);

    it('says why an expired token is refused', async () => {
      const res = await a.gql(LIST, {}, await expiredToken(Role.DEVELOPER));
      expect(res.errors?.[0]?.message).toMatch(/expired/);
    });

    it('refuses a malformed Authorization header', async () => {
      const token = await server.token(Role.ADMIN);
      for (const header of [`Basic ${Buffer.from('a:b').toString('base64')}`, 'Bearer', `Bearer ${token} extra`, token]) {
        const res = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: header },
          body: JSON.stringify({ query: CREATE, variables: { name: 'bad-header' } }),
        });
        const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
        assertSafeErrors(body);
        expect(res.status, header).toBe(401);
        expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      }
      expect(await readProfile(a, 'bad-header')).toBeNull();
    });

    it('accepts a valid token with extra claims, which grant nothing', async () => {
      const token = await signedToken({ sub: 'extra', role: 'DEVELOPER', exp: now() + 60, team: 'x', admin: true });
      expect(ok(await a.gql<{ createProfile: { name: string } }>(CREATE, { name: 'extra-claims' }, token)).createProfile.name).toBe('extra-claims');
      // `admin: true` is not a role: deleting needs ADMIN.
      expectRefused(await a.gql(`mutation { deleteProfile(name: "extra-claims") }`, {}, token), 'FORBIDDEN');
      expect(await readProfile(a, 'extra-claims')).not.toBeNull();
    });
  });

  describe('role matrix', () => {
    const ops = {
      profiles: `{ profiles(first: 5) { totalCount } }`,
      profile: `{ profile(name: "matrix") { name } }`,
      version: `{ version(profileName: "matrix", version: 1) { version } }`,
      versionDiff: `{ versionDiff(profileName: "matrix", from: 1, to: 1) { changes { op } } }`,
    } as const;

    beforeAll(async () => {
      await createProfile(a, 'matrix', { service: 'matrix', environment: Environment.PRODUCTION });
      await publish(a, 'matrix', { m: 1 });
    });

    it.each([Role.DEVELOPER, Role.OPERATOR, Role.ADMIN])('%s may run every read', async (role) => {
      const token = await a.token(role);
      for (const [op, query] of Object.entries(ops)) {
        const res = await a.gql<Record<string, unknown>>(query, {}, token);
        expect(res.errors, `${role} ${op}`).toBeUndefined();
        expect(res.data?.[op], `${role} ${op}`).toBeTruthy();
      }
    });

    it('DEVELOPER creates, updates and publishes but may not delete', async () => {
      const dev = await a.token(Role.DEVELOPER, 'dev-bob');
      ok(await a.gql(`mutation { createProfile(input: { name: "dev-owned", service: "matrix", environment: DEVELOPMENT }) { name } }`, {}, dev));
      ok(await a.gql(`mutation { updateProfile(name: "dev-owned", input: { description: "mine" }) { name } }`, {}, dev));
      const v = ok(await a.gql<{ publishVersion: { version: number; createdBy: string } }>(
        `mutation { publishVersion(profileName: "dev-owned", input: { data: { on: true } }) { version createdBy } }`, {}, dev,
      )).publishVersion;
      expect(v).toEqual({ version: 1, createdBy: 'dev-bob' });
      expectRefused(await a.gql(`mutation { deleteVersion(profileName: "dev-owned", version: 1) }`, {}, dev), 'FORBIDDEN');
      expectRefused(await a.gql(`mutation { deleteProfile(name: "dev-owned") }`, {}, dev), 'FORBIDDEN');
      expect(await readProfile(a, 'dev-owned')).toMatchObject({ description: 'mine', versions: { totalCount: 1 } });
      expect(await readVersion(a, 'dev-owned', 1)).not.toBeNull();
    });

    it('a refusal is decided before the input is looked at (FORBIDDEN, not NOT_FOUND, for a missing profile)', async () => {
      const op = await a.token(Role.OPERATOR);
      expectRefused(await a.gql(`mutation { deleteProfile(name: "does-not-exist") }`, {}, op), 'FORBIDDEN');
      expectRefused(await a.gql(`mutation { publishVersion(profileName: "does-not-exist", input: { data: { a: 1 } }) { version } }`, {}, op), 'FORBIDDEN');
    });
  });
});
