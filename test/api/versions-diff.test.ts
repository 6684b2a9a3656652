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
  VERSION_FIELDS,
  type VersionShape,
} from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DIFF = `query($p: String!, $from: Int!, $to: Int!) {
  versionDiff(profileName: $p, from: $from, to: $to) { profileName from to delta changes { op path before after } }
}`;
const DELETE = `mutation($p: String!, $v: Int!) { deleteVersion(profileName: $p, version: $v) }`;

interface DiffShape {
  profileName: string;
  from: number;
  to: number;
  delta: unknown;
  changes: Array<{ op: string; path: string; before: unknown; after: unknown }>;
}

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

  describe('versionDiff', () => {
    beforeAll(async () => {
      await createProfile(a, 'diffy');
      await publish(a, 'diffy', { 'a/b': 1, gone: true, 'm~n': { x: 1 }, list: [1, 2] });
      await publish(a, 'diffy', { 'a/b': 2, 'm~n': { x: 1, y: 'new' }, list: [1, 2, 3], added: { deep: [1] } });
      await publish(a, 'diffy', { 'm~n': { x: 1 }, list: [1, 2], 'a/b': 1, gone: true });
    });

    it('returns the jsondiffpatch delta and flat RFC 6901 changes', async () => {
      const diff = ok(await a.gql<{ versionDiff: DiffShape }>(DIFF, { p: 'diffy', from: 1, to: 2 })).versionDiff;
      expect(diff).toMatchObject({ profileName: 'diffy', from: 1, to: 2 });
      expect(diff.changes).toEqual([
        { op: 'REPLACE', path: '/a~1b', before: 1, after: 2 },
        { op: 'ADD', path: '/added', before: null, after: { deep: [1] } },
        { op: 'REMOVE', path: '/gone', before: true, after: null },
        { op: 'ADD', path: '/list/2', before: null, after: 3 },
        { op: 'ADD', path: '/m~0n/y', before: null, after: 'new' },
      ]);
      expect(diff.delta).toEqual({
        'a/b': [1, 2],
        added: [{ deep: [1] }],
        gone: [true, 0, 0],
        list: { _t: 'a', 2: [3] },
        'm~n': { y: ['new'] },
      });
    });

    it('returns delta null and no changes for equal content (same version, and equal versions)', async () => {
      const same = ok(await a.gql<{ versionDiff: DiffShape }>(DIFF, { p: 'diffy', from: 2, to: 2 })).versionDiff;
      expect(same).toEqual({ profileName: 'diffy', from: 2, to: 2, delta: null, changes: [] });
      const equal = ok(await a.gql<{ versionDiff: DiffShape }>(DIFF, { p: 'diffy', from: 1, to: 3 })).versionDiff;
      expect(equal).toEqual({ profileName: 'diffy', from: 1, to: 3, delta: null, changes: [] });
    });

    it('diffs backwards too (to < from)', async () => {
      const diff = ok(await a.gql<{ versionDiff: DiffShape }>(DIFF, { p: 'diffy', from: 2, to: 1 }, await a.token(Role.OPERATOR))).versionDiff;
      expect(diff.changes).toContainEqual({ op: 'ADD', path: '/gone', before: null, after: true });
      expect(diff.changes).toContainEqual({ op: 'REMOVE', path: '/m~0n/y', before: 'new', after: null });
    });

    it('refuses a missing profile or version (NOT_FOUND) and bad numbers (BAD_USER_INPUT)', async () => {
      const noProfile = await a.gql(DIFF, { p: 'nope', from: 1, to: 2 });
      expectRefused(noProfile, 'NOT_FOUND');
      expect(noProfile.errors?.[0]?.message).toContain('nope');
      const noVersion = await a.gql(DIFF, { p: 'diffy', from: 1, to: 9 });
      expectRefused(noVersion, 'NOT_FOUND');
      expect(noVersion.errors?.[0]?.message).toContain('9');
      expectRefused(await a.gql(DIFF, { p: 'diffy', from: 0, to: 1 }), 'BAD_USER_INPUT');
      expectRefused(await a.gql(DIFF, { p: 'diffy', from: 1, to: -1 }), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`{ versionDiff(profileName: "diffy", from: 1) { delta } }`), 'BAD_USER_INPUT');
    });
  });

  describe('deleteVersion', () => {
    it('deletes as ADMIN; the version is gone and its number is not reused', async () => {
      await createProfile(a, 'vdel');
      await publish(a, 'vdel', { n: 1 });
      await publish(a, 'vdel', { n: 2 });
      expect(ok(await a.gql(DELETE, { p: 'vdel', v: 2 }))).toEqual({ deleteVersion: true });
      expect(await readVersion(a, 'vdel', 2)).toBeNull();
      expect((await readVersion(a, 'vdel', 1))?.data).toEqual({ n: 1 });
      const profile = await readProfile(a, 'vdel');
      expect(profile?.latestVersion?.version).toBe(1);
      expect(profile?.versions.totalCount).toBe(1);
      expect((await publish(a, 'vdel', { n: 3 })).version).toBe(3);
    });

    it('refuses a missing version or profile (NOT_FOUND) and bad numbers (BAD_USER_INPUT), deleting nothing', async () => {
      await createProfile(a, 'vdel-bad');
      await publish(a, 'vdel-bad', { n: 1 });
      const before = await snapshot('vdel-bad');
      const missing = await a.gql(DELETE, { p: 'vdel-bad', v: 7 });
      expectRefused(missing, 'NOT_FOUND');
      expect(missing.errors?.[0]?.message).toMatch(/version 7/);
      expectRefused(await a.gql(DELETE, { p: 'no-profile', v: 1 }), 'NOT_FOUND');
      expectRefused(await a.gql(DELETE, { p: 'vdel-bad', v: 0 }), 'BAD_USER_INPUT');
      expectRefused(await a.gql(DELETE, { p: 'vdel-bad', v: 'x' }), 'BAD_USER_INPUT');
      expect(await snapshot('vdel-bad')).toEqual(before);
    });

    it('deleting the same version twice: the second is NOT_FOUND', async () => {
      await createProfile(a, 'vdel-twice');
      await publish(a, 'vdel-twice', { n: 1 });
      await publish(a, 'vdel-twice', { n: 2 });
      ok(await a.gql(DELETE, { p: 'vdel-twice', v: 1 }));
      expectRefused(await a.gql(DELETE, { p: 'vdel-twice', v: 1 }), 'NOT_FOUND');
      expect((await snapshot('vdel-twice'))?.edges.map((e) => e.node.version)).toEqual([2]);
    });
  });

  describe('versions (connection on a profile)', () => {
    it('pages newest first with first/after, every version once', async () => {
      await createProfile(a, 'vpages');
      for (let i = 1; i <= 5; i++) await publish(a, 'vpages', { i });
      const seen: number[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        type Page = { profile: { versions: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: { version: number } }> } } };
        const res: Awaited<ReturnType<typeof a.gql<Page>>> = await a.gql<Page>(
          `query($after: String) { profile(name: "vpages") { versions(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { version } } } } }`,
          { after },
        );
        const page = ok(res).profile.versions;
        expect(page.totalCount).toBe(5);
        seen.push(...page.edges.map((e) => e.node.version));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual([5, 4, 3, 2, 1]);
    });

    it.each([
      ['first: 0', { first: 0 }],
      ['first: 1000', { first: 1000 }],
      ['a garbage cursor', { after: '%%%garbage' }],
      ['a cursor of the profiles list', { after: Buffer.from(JSON.stringify({ c: '2024-01-01T00:00:00.000Z', i: 'x' })).toString('base64url') }],
    ])('refuses %s with BAD_USER_INPUT', async (_label, vars) => {
      const res = await a.gql(`query($first: Int, $after: String) { profile(name: "vpages") { versions(first: $first, after: $after) { totalCount } } }`, vars);
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/first|cursor/);
    });
  });
});
