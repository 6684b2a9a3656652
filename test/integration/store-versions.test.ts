import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment } from '../../src/domain/enums.js';
import type { VersionRecord } from '../../src/domain/records.js';
import { sha256 } from '../support/api.js';
import type { ProfileService } from '../../src/services/profile.service.js';
import type { VersionService } from '../../src/services/version.service.js';
import type { Database } from '../../src/store/database.js';
import { startTestGraph, type StoreGraph } from '../support/graph.js';
import { outcomes, storageHelpers } from '../support/storage.js';

describe('storage on PostgreSQL', () => {
  let g: StoreGraph;
  let db: Database;
  let profiles: ProfileService;
  let versions: VersionService;
  const { sql, versionNumbers, newProfile } = storageHelpers(() => g);

  beforeAll(async () => {
    g = await startTestGraph();
    ({ db, profiles, versions } = g);
  });
  afterAll(async () => {
    await g?.stop();
  });

  describe('version numbering', () => {
    it('20 concurrent publishes on one profile get exactly n+1…n+20: no gaps, no duplicates', async () => {
      const p = await newProfile('concurrent-publish');
      await versions.publish(p.name, { data: { seed: 1 } }, 'setup');
      await versions.publish(p.name, { data: { seed: 2 } }, 'setup');
      const n = 2;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => versions.publish(p.name, { data: { i } }, `writer-${i}`)),
      );
      const numbers = results.map((v) => v.version).sort((x, y) => x - y);
      expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => n + 1 + i));
      expect(await versionNumbers(p)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
      // Each stored version holds what its own call published.
      for (const v of results) {
        const stored = await versions.get(p.name, v.version);
        expect(stored?.data).toEqual(v.data);
        expect(stored?.createdBy).toBe(`writer-${(v.data as { i: number }).i}`);
      }
      expect((await profiles.get(p.name))?.lastVersion).toBe(22);
    });

    it('concurrent publishes of identical content: exactly one succeeds, the others are CONFLICT', async () => {
      const p = await newProfile('concurrent-same');
      await versions.publish(p.name, { data: { before: true } }, 'setup');
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => versions.publish(p.name, { data: { same: true, n: 1 } }, 'racer')),
      );
      const codes = outcomes(results);
      expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
      expect(codes.filter((c) => c === 'CONFLICT')).toHaveLength(9);
      expect(await versionNumbers(p)).toEqual([1, 2]);
      expect((await profiles.get(p.name))?.lastVersion).toBe(2);
    });

    it('never reuses a version number, even after deleting the latest', async () => {
      const p = await newProfile('no-reuse');
      for (let i = 1; i <= 3; i++) await versions.publish(p.name, { data: { i } }, 't');
      await versions.delete(p.name, 3);
      expect(await versions.get(p.name, 3)).toBeNull();
      expect((await versions.publish(p.name, { data: { i: 4 } }, 't')).version).toBe(4);
      await versions.delete(p.name, 4);
      await versions.delete(p.name, 2);
      const next = await versions.publish(p.name, { data: { i: 5 } }, 't');
      expect(next.version).toBe(5);
      expect(await versionNumbers(p)).toEqual([1, 5]);
      expect((await versions.latest(p))?.version).toBe(5);
    });

    it('a refused publish (duplicate of latest, missing profile, bad data) consumes no number and writes nothing', async () => {
      const p = await newProfile('refusals');
      await versions.publish(p.name, { data: { a: 1, b: 2 } }, 't');
      await expect(versions.publish(p.name, { data: { b: 2, a: 1 } }, 't')).rejects.toMatchObject({ code: 'CONFLICT' });
      await expect(versions.publish(p.name, { data: [1] }, 't')).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      await expect(versions.publish('refusals-missing', { data: { a: 1 } }, 't')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect((await profiles.get(p.name))?.lastVersion).toBe(1);
      expect((await versions.publish(p.name, { data: { a: 2 } }, 't')).version).toBe(2);
      expect(await versionNumbers(p)).toEqual([1, 2]);
    });

    it('numbers versions per profile, independently, under concurrency on two profiles', async () => {
      const [x, y] = await Promise.all([newProfile('indep-x'), newProfile('indep-y')]);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => versions.publish((i % 2 === 0 ? x : y).name, { data: { i } }, 't')),
      );
      expect(await versionNumbers(x)).toEqual([1, 2, 3, 4, 5]);
      expect(await versionNumbers(y)).toEqual([1, 2, 3, 4, 5]);
    });

    it('the database itself refuses a second row with the same (profile, version)', async () => {
      const p = await newProfile('unique-version');
      const v1 = await versions.publish(p.name, { data: { a: 1 } }, 't');
      await expect(
        db.transaction((r) => r.versions.insert(p, { version: 1, data: { a: 2 }, hash: 'x', description: null, createdBy: 't' })),
      ).rejects.toThrow();
      expect(await versionNumbers(p)).toEqual([1]);
      expect(await versions.get(p.name, 1)).toEqual(v1);
    });

    it('refuses to delete the active version (CONFLICT) and keeps it', async () => {
      const p = await newProfile('active-kept');
      await versions.publish(p.name, { data: { a: 1 } }, 't');
      await versions.publish(p.name, { data: { a: 2 } }, 't');
      await sql('update config_profile set active_version = 1 where id = ?', [p.id]);
      await expect(versions.delete(p.name, 1)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await versionNumbers(p)).toEqual([1, 2]);
      await expect(versions.delete(p.name, 2)).resolves.toBe(true);
      await expect(versions.delete(p.name, 2)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('jsonb round trips', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['unicode', { text: 'Grüße, 日本語, emoji 😀👍🏽, rtl עברית', 'ключ': 'значение', '\u2028': 'line sep' }],
      ['nested arrays', { m: [[1, [2, [3, [4, []]]]], [[], [{}]], [null, true, false, 'x']] }],
      ['large and small numbers', { max: Number.MAX_SAFE_INTEGER, min: Number.MIN_SAFE_INTEGER, huge: 1e300, tiny: 5e-324, neg: -1.5e-300, f: 0.1, z: 0 }],
      ['empty object', {}],
      ['keys needing escapes', { 'a/b': 1, 'm~n': 2, '"quoted"': 3, 'back\\slash': 4, '': 5 }],
    ];

    it.each(cases)('%s survive publish and read back unchanged, with a matching hash', async (label, data) => {
      const name = `json-${label.replace(/[^a-z]+/g, '-')}`.replace(/-+$/, '');
      const p = await newProfile(name);
      const published = await versions.publish(p.name, { data, description: `round trip: ${label}` }, 't');
      const read = await versions.get(p.name, published.version);
      expect(read?.data).toEqual(data);
      expect(read?.hash).toBe(published.hash);
      expect(read?.hash).toBe(sha256(canonical(read?.data)));
    });

    it('the repository writes and reads jsonb directly', async () => {
      const p = await newProfile('json-repo');
      const data = { list: [1, 'two', { three: [3] }], n: 12345678901234, u: 'ü' };
      const inserted: VersionRecord = await db.transaction(async (r) => {
        const locked = await r.profiles.lockByName(p.name);
        const version = await r.profiles.allocateVersionNumber(locked!.id);
        return r.versions.insert(locked!, { version, data, hash: 'h', description: null, createdBy: 'repo' });
      });
      const read = await db.read((r) => r.versions.get(p, inserted.version));
      expect(read).toMatchObject({ version: 1, data, hash: 'h', createdBy: 'repo', profileName: 'json-repo' });
      const raw = await sql<{ data: unknown; t: string }>('select data, jsonb_typeof(data) as t from config_version where id = ?', [inserted.id]);
      expect(raw[0]).toEqual({ data, t: 'object' });
    });
  });

  describe('transactions', () => {
    it('a failing transaction writes nothing', async () => {
      await expect(
        db.transaction(async (r) => {
          const created = await r.profiles.insert({ name: 'doomed', service: 'store', environment: Environment.STAGING });
          const version = await r.profiles.allocateVersionNumber(created.id);
          await r.versions.insert(created, { version, data: { a: 1 }, hash: 'h', description: null, createdBy: 't' });
          throw new Error('boom after writing');
        }),
      ).rejects.toThrow('boom after writing');
      expect(await profiles.get('doomed')).toBeNull();
      expect(await sql(`select 1 from config_profile where name = 'doomed'`)).toHaveLength(0);
      expect(await sql(`select 1 from config_version v join config_profile p on p.id = v.profile_id where p.name = 'doomed'`)).toHaveLength(0);
    });

    it('a transaction failing on a database constraint writes nothing either', async () => {
      const existing = await newProfile('tx-existing');
      await expect(
        db.transaction(async (r) => {
          await r.profiles.update(existing.name, { description: 'should roll back' });
          await r.profiles.insert({ name: 'tx-existing', service: 'dup', environment: Environment.STAGING });
        }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      expect((await profiles.get(existing.name))?.description).toBeNull();
    });
  });
});

/** Canonical JSON written out independently of src/: sorted keys, no whitespace. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`)
    .join(',')}}`;
}
