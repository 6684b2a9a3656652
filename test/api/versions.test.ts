import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import {
  api,
  type Api,
  createProfile,
  expectRefused,
  ok,
  publish,
  readProfile,
  readVersion,
  sha256,
  VERSION_FIELDS,
  type VersionShape,
} from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PUBLISH = `mutation($p: String!, $input: PublishVersionInput!) { publishVersion(profileName: $p, input: $input) { ${VERSION_FIELDS} } }`;
const GET = `query($p: String!, $v: Int!) { version(profileName: $p, version: $v) { ${VERSION_FIELDS} } }`;

describe('versions API', () => {
  let server: TestServer;
  let a: Api;

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Versions of a profile (numbers, newest first) and its latest, for "nothing written" checks. */
  async function snapshot(profileName: string) {
    const res = await a.gql<{ profile: { versions: { totalCount: number; edges: Array<{ node: VersionShape }> } } | null }>(
      `query($n: String!, $first: Int) { profile(name: $n) { versions(first: $first) { totalCount edges { node { ${VERSION_FIELDS} } } } } }`,
      { n: profileName, first: 50 },
    );
    return ok(res).profile?.versions ?? null;
  }

  describe('publishVersion', () => {
    it('publishes as DEVELOPER: numbered 1, 2, …, hashed, attributed, and persisted', async () => {
      await createProfile(a, 'pub-ok');
      const dev = await a.token(Role.DEVELOPER, 'ci-job-42');
      const res = await a.gql<{ publishVersion: VersionShape }>(PUBLISH, { p: 'pub-ok', input: { data: { b: 2, a: [1, { y: 'é', x: null }] }, description: 'first' } }, dev);
      const v1 = ok(res).publishVersion;
      const canonical = '{"a":[1,{"x":null,"y":"é"}],"b":2}';
      expect(v1).toMatchObject({ profileName: 'pub-ok', version: 1, data: { a: [1, { x: null, y: 'é' }], b: 2 }, hash: sha256(canonical), description: 'first', createdBy: 'ci-job-42' });
      expect(v1.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await readVersion(a, 'pub-ok', 1)).toEqual(v1);

      const v2 = ok(await a.gql<{ publishVersion: VersionShape }>(PUBLISH, { p: 'pub-ok', input: { data: { b: 3 } } }, dev)).publishVersion;
      expect(v2).toMatchObject({ version: 2, description: null, hash: sha256('{"b":3}') });
      const profile = await readProfile(a, 'pub-ok');
      expect(profile?.latestVersion).toEqual(v2);
      expect(profile?.versions.totalCount).toBe(2);
    });

    it('refuses a missing profile with NOT_FOUND and creates nothing', async () => {
      const res = await a.gql(PUBLISH, { p: 'no-profile-here', input: { data: { a: 1 } } });
      expectRefused(res, 'NOT_FOUND');
      expect(res.errors?.[0]?.message).toContain('no-profile-here');
      expect(await readProfile(a, 'no-profile-here')).toBeNull();
    });

    it.each([
      ['an array', [1, 2, 3]],
      ['a string', 'a=1'],
      ['a number', 42],
      ['a boolean', true],
    ])('refuses config that is %s (BAD_USER_INPUT) and writes nothing', async (_label, data) => {
      await createProfile(a, `pub-type-${typeof data}-${Array.isArray(data)}`);
      const name = `pub-type-${typeof data}-${Array.isArray(data)}`;
      await publish(a, name, { base: true });
      const before = await snapshot(name);
      const res = await a.gql(PUBLISH, { p: name, input: { data } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/JSON object/);
      expect(await snapshot(name)).toEqual(before);
    });

    it('refuses config that is null (as a variable and as a literal)', async () => {
      await createProfile(a, 'pub-null');
      const viaVariable = await a.gql(PUBLISH, { p: 'pub-null', input: { data: null } });
      expectRefused(viaVariable, 'BAD_USER_INPUT');
      const viaLiteral = await a.gql(`mutation { publishVersion(profileName: "pub-null", input: { data: null }) { version } }`);
      expectRefused(viaLiteral, 'BAD_USER_INPUT');
      const missing = await a.gql(`mutation { publishVersion(profileName: "pub-null", input: {}) { version } }`);
      expectRefused(missing, 'BAD_USER_INPUT');
      expect((await snapshot('pub-null'))?.totalCount).toBe(0);
    });

    it('refuses content equal to the latest version with CONFLICT, whatever the key order', async () => {
      await createProfile(a, 'pub-dup');
      const v1 = await publish(a, 'pub-dup', { a: 1, b: 2 });
      const before = await snapshot('pub-dup');
      for (const data of [{ a: 1, b: 2 }, { b: 2, a: 1 }]) {
        const res = await a.gql(PUBLISH, { p: 'pub-dup', input: { data, description: 'again' } });
        expectRefused(res, 'CONFLICT');
        expect(res.errors?.[0]?.message).toMatch(/identical to version 1/);
        expect(res.errors?.[0]?.extensions?.latestVersion).toBe(1);
      }
      expect(await snapshot('pub-dup')).toEqual(before);
      // The refusals used no version number: the next real change is 2.
      const v2 = await publish(a, 'pub-dup', { a: 1, b: 3 });
      expect(v2.version).toBe(2);
      // Equal to an older version but not to the latest: accepted, same hash as v1.
      const v3 = await publish(a, 'pub-dup', { b: 2, a: 1 });
      expect(v3).toMatchObject({ version: 3, hash: v1.hash });
    });

    it('refuses a description over 1000 characters, writing nothing', async () => {
      await createProfile(a, 'pub-desc');
      const res = await a.gql(PUBLISH, { p: 'pub-desc', input: { data: { a: 1 }, description: 'd'.repeat(1001) } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect((await snapshot('pub-desc'))?.totalCount).toBe(0);
    });

    it('stores awkward JSON exactly: unicode, nested arrays, large and small numbers, empty containers', async () => {
      await createProfile(a, 'pub-json');
      const data = {
        unicode: 'Grüße 日本語 😀 \u2028 "quoted" \\ back',
        nested: [[1, [2, [3, []]]], [{}], [null, true, false]],
        big: Number.MAX_SAFE_INTEGER,
        negative: -1.5e-300,
        huge: 1e300,
        fraction: 0.1,
        empty: {},
        'key with spaces/and~tilde': 'ok',
      };
      const v = await publish(a, 'pub-json', data);
      expect(v.data).toEqual(data);
      expect((await readVersion(a, 'pub-json', 1))?.data).toEqual(data);
      const empty = await publish(a, 'pub-json', {});
      expect(empty).toMatchObject({ version: 2, data: {}, hash: sha256('{}') });
    });

    it('stores a string holding a NUL character, or refuses it as input (never a server error)', async () => {
      await createProfile(a, 'pub-nul');
      const data = { s: 'a\u0000b' };
      const res = await a.gql<{ publishVersion: VersionShape }>(PUBLISH, { p: 'pub-nul', input: { data } });
      if (res.errors) {
        expectRefused(res, 'BAD_USER_INPUT');
        expect((await snapshot('pub-nul'))?.totalCount).toBe(0);
      } else {
        expect(ok(res).publishVersion.data).toEqual(data);
        expect((await readVersion(a, 'pub-nul', 1))?.data).toEqual(data);
      }
    });
  });

  describe('immutability and hashes', () => {
    it('no mutation of the schema can change a version', async () => {
      const res = await a.gql<{ __type: { fields: Array<{ name: string }> } }>(`{ __type(name: "Mutation") { fields { name } } }`);
      const names = ok(res).__type.fields.map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['publishVersion', 'deleteVersion']));
      const touchingVersions = names.filter((n) => /version/i.test(n));
      expect(touchingVersions.sort()).toEqual(['deleteVersion', 'publishVersion']);
    });

    it('a version reads back byte-identical after later publishes and profile updates; hash = sha256(canonical JSON)', async () => {
      await createProfile(a, 'immutable');
      const data = { zeta: { b: [3, 2, 1], a: 'ä' }, alpha: 1.5, mid: [{ y: false, x: null }] };
      const canonical = '{"alpha":1.5,"mid":[{"x":null,"y":false}],"zeta":{"a":"ä","b":[3,2,1]}}';
      const v1 = await publish(a, 'immutable', data, 'one');
      expect(v1.hash).toBe(sha256(canonical));
      expect(v1.hash).toMatch(/^[0-9a-f]{64}$/);

      await publish(a, 'immutable', { ...data, alpha: 2 }, 'two');
      ok(await a.gql(`mutation { updateProfile(name: "immutable", input: { description: "changed" }) { name } }`));
      // A publish attempt with v1's number in the payload creates v3, it does not overwrite v1.
      const v3 = await publish(a, 'immutable', { version: 1, replaced: true });
      expect(v3.version).toBe(3);

      const again = await readVersion(a, 'immutable', 1);
      expect(again).toEqual(v1);
      expect(again?.hash).toBe(sha256(canonical));
    });
  });

  describe('version', () => {
    it('reads a version for DEVELOPER, OPERATOR and ADMIN', async () => {
      await createProfile(a, 'ver-read');
      const v1 = await publish(a, 'ver-read', { k: 'v' }, 'd');
      for (const role of [Role.DEVELOPER, Role.OPERATOR, Role.ADMIN]) {
        const res = await a.gql<{ version: VersionShape }>(GET, { p: 'ver-read', v: 1 }, await a.token(role));
        expect(ok(res).version).toEqual(v1);
      }
    });

    it('returns null for a missing version or profile', async () => {
      expect(ok(await a.gql(GET, { p: 'ver-read', v: 99 }))).toEqual({ version: null });
      expect(ok(await a.gql(GET, { p: 'no-such-thing', v: 1 }))).toEqual({ version: null });
    });

    it.each([
      ['zero', { p: 'ver-read', v: 0 }],
      ['negative', { p: 'ver-read', v: -3 }],
      ['a string', { p: 'ver-read', v: 'one' }],
      ['a float', { p: 'ver-read', v: 1.5 }],
      ['beyond Int', { p: 'ver-read', v: 2 ** 40 }],
    ])('refuses a version number that is %s (BAD_USER_INPUT)', async (_label, vars) => {
      expectRefused(await a.gql(GET, vars), 'BAD_USER_INPUT');
    });
  });
});
