import type { MikroORM } from '@mikro-orm/postgresql';
import net, { type AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment } from '../../src/domain/enums.js';
import type { ProfileRecord, VersionRecord } from '../../src/domain/records.js';
import { ProfileService } from '../../src/services/profile.service.js';
import { SchemaService } from '../../src/services/schema.service.js';
import { VersionService } from '../../src/services/version.service.js';
import { SandboxedValidator } from '../../src/json-schema/sandboxed-validator.js';
import { SchemaCompiler } from '../../src/json-schema/schema-compiler.js';
import { Database } from '../../src/store/database.js';
import { migrate, openOrm } from '../../src/store/orm.js';
import { migrationsList } from '../../migrations/index.js';
import { sha256 } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const LIMITS = { maxBytes: 1024 * 1024, maxDepth: 64 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The settled outcomes of concurrent calls, as 'ok' or the error's code. */
function outcomes(results: PromiseSettledResult<unknown>[]): string[] {
  return results.map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: unknown }).code ?? (r.reason as Error).message)));
}

describe('storage on PostgreSQL', () => {
  let tdb: TestDatabase;
  let orm: MikroORM;
  let db: Database;
  let profiles: ProfileService;
  let versions: VersionService;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    orm = await openOrm(tdb.url);
    db = new Database(orm);
    const schemas = schemasOf(db);
    profiles = new ProfileService(db, schemas);
    versions = new VersionService(db, LIMITS, schemas);
  });
  afterAll(async () => {
    await orm?.close();
    await tdb?.drop();
  });

  async function sql<T = Record<string, unknown>>(query: string, params: unknown[] = []): Promise<T[]> {
    return orm.em.getConnection().execute<T[]>(query, params);
  }

  async function versionNumbers(profile: ProfileRecord): Promise<number[]> {
    const rows = await sql<{ version: number }>('select version from config_version where profile_id = ? order by version', [profile.id]);
    return rows.map((r) => r.version);
  }

  function newProfile(name: string, service = 'store', environment = Environment.STAGING): Promise<ProfileRecord> {
    return profiles.create({ name, service, environment });
  }

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

  describe('profiles', () => {
    it('deleting a profile cascades to its versions', async () => {
      const p = await newProfile('cascade');
      const other = await newProfile('cascade-bystander');
      for (let i = 1; i <= 3; i++) await versions.publish(p.name, { data: { i } }, 't');
      await versions.publish(other.name, { data: { keep: true } }, 't');
      await expect(profiles.delete(p.name)).resolves.toBe(true);
      expect(await profiles.get(p.name)).toBeNull();
      expect(await sql('select 1 from config_version where profile_id = ?', [p.id])).toHaveLength(0);
      expect(await versionNumbers(other)).toEqual([1]);
      await expect(profiles.delete(p.name)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('unique names under concurrent creates: exactly one wins, the rest are CONFLICT', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => profiles.create({ name: 'race-name', service: `svc-${i}`, environment: Environment.STAGING })),
      );
      const codes = outcomes(results);
      expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
      expect(codes.filter((c) => c === 'CONFLICT')).toHaveLength(9);
      const rows = await sql<{ service: string }>('select service from config_profile where name = ?', ['race-name']);
      expect(rows).toHaveLength(1);
      const winner = results.find((r): r is PromiseFulfilledResult<ProfileRecord> => r.status === 'fulfilled')!.value;
      expect(rows[0]?.service).toBe(winner.service);
    });

    it('update changes the description and updatedAt only', async () => {
      const p = await profiles.create({ name: 'upd-store', service: 'store', environment: Environment.PRODUCTION, description: 'old' });
      await sleep(5);
      const u = await profiles.update(p.name, { description: 'new' });
      expect(u).toMatchObject({ id: p.id, name: p.name, service: 'store', environment: 'PRODUCTION', description: 'new', createdAt: p.createdAt });
      expect(u.updatedAt.getTime()).toBeGreaterThan(p.updatedAt.getTime());
      expect(await profiles.get(p.name)).toEqual(u);
      await expect(profiles.update('upd-store-missing', { description: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('lists newest first with cursors: every row once, right totals, filters', async () => {
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        await newProfile(`list-${i}`, 'listing', i < 3 ? Environment.STAGING : Environment.PRODUCTION);
        made.push(`list-${i}`);
        await sleep(3);
      }
      const seen: string[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        const page: Awaited<ReturnType<typeof profiles.list>> = await profiles.list({ service: 'listing', first: 2, after });
        expect(page.totalCount).toBe(5);
        seen.push(...page.edges.map((e) => e.node.name));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual([...made].reverse());
      const prod = await profiles.list({ service: 'listing', environment: Environment.PRODUCTION });
      expect(prod.edges.map((e) => e.node.name)).toEqual(['list-4', 'list-3']);
      expect(prod.totalCount).toBe(2);
      expect(prod.pageInfo).toEqual({ hasNextPage: false, endCursor: prod.edges[1]?.cursor });
      await expect(profiles.list({ first: 0 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      await expect(profiles.list({ after: 'garbage!' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    });

    it('pages through profiles created at the same instant: ties broken by id, none lost or repeated', async () => {
      const names = Array.from({ length: 6 }, (_, i) => `tie-${i}`);
      for (const name of names) await newProfile(name, 'ties');
      await sql(`update config_profile set created_at = '2020-01-01T00:00:00Z' where service = 'ties'`);
      const seen: ProfileRecord[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        const page: Awaited<ReturnType<typeof profiles.list>> = await profiles.list({ service: 'ties', first: 1, after });
        seen.push(...page.edges.map((e) => e.node));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen.map((p) => p.name).sort()).toEqual(names);
      const ids = seen.map((p) => p.id);
      expect(ids).toEqual([...ids].sort().reverse());
    });

    it('lists versions newest first with cursors and totals', async () => {
      const p = await newProfile('vlist');
      for (let i = 1; i <= 5; i++) await versions.publish(p.name, { data: { i } }, 't');
      await versions.delete(p.name, 3);
      const seen: number[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        const page: Awaited<ReturnType<typeof versions.list>> = await versions.list(p, 2, after);
        expect(page.totalCount).toBe(4);
        seen.push(...page.edges.map((e) => e.node.version));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual([5, 4, 2, 1]);
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

  describe('deployment targets', () => {
    /** A deployment row written directly: these tests are about its targets only. */
    async function deploymentOf(p: ProfileRecord): Promise<string> {
      const [row] = await sql<{ id: string }>(
        `insert into deployment (id, profile_id, service, environment, version, strategy, options, health_policy,
           ack_timeout_seconds, status, phase_count, started_by, created_at, updated_at)
         values (gen_random_uuid(), ?, ?, ?, 1, 'DIRECT', '{}', '{}', 30, 'COMPLETED', 1, 'test', now(), now()) returning id`,
        [p.id, p.service, p.environment],
      );
      return row!.id;
    }
    const targetsOf = async (deploymentId: string) =>
      (await sql<{ instance_id: string }>('select instance_id from deployment_target where deployment_id = ? order by instance_id', [deploymentId]))
        .map((r) => r.instance_id);
    const planned = [{ instanceId: 'i-1', phase: 1 }, { instanceId: 'i-2', phase: 1 }];

    it('are deleted with their deployment when its profile is deleted; other deployments keep theirs', async () => {
      const p = await newProfile('targets-cascade');
      const other = await newProfile('targets-cascade-bystander');
      await versions.publish(p.name, { data: { a: 1 } }, 't');
      const [gone, gone2, kept] = [await deploymentOf(p), await deploymentOf(p), await deploymentOf(other)];
      for (const id of [gone, gone2, kept]) await db.transaction((r) => r.targets.insert(id, planned, null));
      expect(await targetsOf(gone)).toEqual(['i-1', 'i-2']);
      await expect(profiles.delete(p.name)).resolves.toBe(true);
      expect(await targetsOf(gone)).toEqual([]);
      expect(await targetsOf(gone2)).toEqual([]);
      expect(await targetsOf(kept)).toEqual(['i-1', 'i-2']);
    });

    it('are never written for a deployment that does not exist: the insert throws and writes nothing', async () => {
      const p = await newProfile('targets-orphan');
      const missing = '00000000-0000-4000-8000-00000000dead';
      await expect(
        db.transaction((r) => r.targets.insert(missing, planned, { profileId: p.id, instanceIds: ['i-1'], version: 1, ackTimeoutSeconds: 30 })),
      ).rejects.toThrow(`deployment ${missing} does not exist`);
      expect(await targetsOf(missing)).toEqual([]);
      expect(await sql('select 1 from instance_config where profile_id = ?', [p.id])).toHaveLength(0);
    });

    it('are emptied when deployment is truncated (no delete trigger fires then)', async () => {
      const p = await newProfile('targets-truncate');
      const id = await deploymentOf(p);
      await db.transaction((r) => r.targets.insert(id, planned, null));
      // On one connection, rolled back: the other tests of this file keep their rows.
      const client = new pg.Client({ connectionString: tdb.url });
      await client.connect();
      try {
        await client.query('begin');
        await client.query('truncate deployment cascade');
        expect((await client.query('select 1 from deployment_target')).rowCount).toBe(0);
        await client.query('rollback');
      } finally {
        await client.end();
      }
      expect(await targetsOf(id)).toEqual(['i-1', 'i-2']);
    });
  });

  describe('statements with bound parameters', () => {
    it('run in the transaction (rolled back with it), and values with quotes, backslashes and ? arrive as they are', async () => {
      const p = await newProfile('bound-params');
      const odd = ["it's", 'back\\slash', 'what?', '$1 ?? ::jsonb', 'a "quoted", {braced} value', 'NULL', ' spaced '];
      await expect(
        db.transaction(async (r) => {
          await r.targets.recordSentOnSubscribe(odd, p.id, 1);
          throw new Error('boom after writing');
        }),
      ).rejects.toThrow('boom after writing');
      const stored = () => sql<{ instance_id: string }>('select instance_id from instance_config where profile_id = ? order by instance_id', [p.id]);
      expect(await stored()).toEqual([]);
      await db.transaction((r) => r.targets.recordSentOnSubscribe(odd, p.id, 1));
      expect((await stored()).map((row) => row.instance_id).sort()).toEqual([...odd].sort());
    });
  });

  describe('migrations and connectivity', () => {
    it('migrate() is idempotent: a second call applies nothing', async () => {
      expect(await migrate(orm)).toEqual([]);
      const rows = await sql<{ name: string }>('select name from hotswap_migrations');
      expect(rows.map((r) => r.name)).toEqual(migrationsList.map((m) => m.name));
    });

    it('two concurrent migrate() calls on a fresh empty database both succeed and apply once', async () => {
      const { inject } = await import('vitest');
      const { withDatabase } = await import('../support/global-setup.js');
      const pg = (await import('pg')).default;
      const adminUrl = inject('databaseUrl');
      const name = `hotswap_fresh_${Math.random().toString(16).slice(2, 10)}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      const url = withDatabase(adminUrl, name);
      const [o1, o2] = await Promise.all([openOrm(url, { poolMax: 3 }), openOrm(url, { poolMax: 3 })]);
      try {
        const [a1, a2] = await Promise.all([migrate(o1), migrate(o2)]);
        expect([...a1, ...a2].sort()).toEqual(migrationsList.map((m) => m.name).sort());
        const check = new pg.Client({ connectionString: url });
        await check.connect();
        try {
          const applied = await check.query('select name from hotswap_migrations');
          expect(applied.rowCount).toBe(migrationsList.length);
          const tables = await check.query(`select table_name from information_schema.tables where table_schema = 'public' and table_name like 'config_%' order by 1`);
          expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual(['config_profile', 'config_schema', 'config_version']);
        } finally {
          await check.end();
        }
        expect(await migrate(o1)).toEqual([]);
      } finally {
        await Promise.all([o1.close(), o2.close()]);
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    });

    it('Database.ping() answers when the database is up', async () => {
      await expect(db.ping()).resolves.toBeUndefined();
    });

    it('a database on a closed port gives errors with code UNAVAILABLE', async () => {
      const port = await closedPort();
      const url = `postgres://postgres@127.0.0.1:${port}/nothing`;
      // Either opening refuses with UNAVAILABLE, or it opens lazily and each call does.
      let dead: MikroORM;
      try {
        dead = await openOrm(url, { poolMax: 1 });
      } catch (error) {
        expect(error).toMatchObject({ code: 'UNAVAILABLE' });
        return;
      }
      try {
        const deadDb = new Database(dead);
        const started = Date.now();
        await expect(deadDb.ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(new ProfileService(deadDb, schemasOf(deadDb)).get('any')).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { retryable: true } });
        await expect(new VersionService(deadDb, LIMITS, schemasOf(deadDb)).publish('any', { data: { a: 1 } }, 't')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        expect(Date.now() - started).toBeLessThan(10_000);
      } finally {
        await dead.close();
      }
    });

    it('a database that goes away after opening gives UNAVAILABLE, and calls work again when it is back', async () => {
      const target = new URL(tdb.url);
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
      const proxied = new URL(tdb.url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      const viaProxy = await openOrm(proxied.toString(), { poolMax: 2 });
      try {
        const proxiedDb = new Database(viaProxy);
        const service = new ProfileService(proxiedDb, schemasOf(proxiedDb));
        await expect(proxiedDb.ping()).resolves.toBeUndefined();
        expect((await service.get('cascade-bystander'))?.name).toBe('cascade-bystander');

        await proxy.down();
        await expect(proxiedDb.ping()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(service.get('cascade-bystander')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
        await expect(service.create({ name: 'while-down', service: 's', environment: Environment.STAGING })).rejects.toMatchObject({ code: 'UNAVAILABLE' });

        await proxy.up();
        let recovered = false;
        for (let i = 0; i < 20 && !recovered; i++) {
          recovered = await proxiedDb.ping().then(() => true, () => false);
          if (!recovered) await sleep(100);
        }
        expect(recovered).toBe(true);
        expect((await service.get('cascade-bystander'))?.name).toBe('cascade-bystander');
        expect(await profiles.get('while-down')).toBeNull();
      } finally {
        await viaProxy.close().catch(() => undefined);
        await proxy.down();
      }
    });
  });
});

/** A TCP port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A TCP proxy to PostgreSQL that can be taken down (every connection cut) and brought back on the same port. */
async function startTcpProxy(host: string, targetPort: number): Promise<{ port: number; down(): Promise<void>; up(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const s = net.createServer((client) => {
        const upstream = net.connect(targetPort, host);
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve((s.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  return {
    port,
    async down() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async up() {
      await listen(port);
    },
  };
}

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

const SANDBOX = new SandboxedValidator({ maxSchemaBytes: 512 * 1024, timeoutMs: 5000, memoryMb: 128 });

function schemasOf(db: Database): SchemaService {
  return new SchemaService(db, new SchemaCompiler({ maxSchemaBytes: 512 * 1024 }), SANDBOX);
}
