import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { DeploymentStatus, Environment } from '../../src/domain/enums.js';
import type { ProfileRecord } from '../../src/domain/records.js';
import { newDeployment } from '../support/seed.js';
import type { ProfileService } from '../../src/services/profile.service.js';
import type { VersionService } from '../../src/services/version.service.js';
import type { Database } from '../../src/store/database.js';
import { startTestGraph, type StoreGraph } from '../support/graph.js';
import { outcomes, storageHelpers } from '../support/storage.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  describe('deployment targets', () => {
    /** A COMPLETED deployment written through the repository, without targets: these tests are about its targets only. */
    async function deploymentOf(p: ProfileRecord): Promise<string> {
      const d = newDeployment(p, { version: 1, status: DeploymentStatus.COMPLETED });
      await db.transaction((r) => r.deployments.insert(d, new Date()));
      return d.id;
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
      const client = new pg.Client({ connectionString: g.tdb.url });
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
});
