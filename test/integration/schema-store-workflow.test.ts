import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../src/domain/authorization.js';
import { Environment, Role, SchemaStatus } from '../../src/domain/enums.js';
import type { SchemaRecord } from '../../src/domain/records.js';
import type { ProfileService } from '../../src/services/profile.service.js';
import type { VersionService } from '../../src/services/version.service.js';
import type { SchemaService } from '../../src/services/schema.service.js';
import type { Database } from '../../src/store/database.js';
import { startTestGraph, type StoreGraph } from '../support/graph.js';
import { outcomes, schemaHelpers } from '../support/storage.js';

const T0 = new Date('2001-02-03T04:05:06.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const dev = (sub: string): Principal => ({ sub, role: Role.DEVELOPER });
const admin = (sub: string): Principal => ({ sub, role: Role.ADMIN });

describe('schema storage on PostgreSQL', () => {
  let g: StoreGraph;
  let db: Database;
  let profiles: ProfileService;
  let versions: VersionService;
  let schemas: SchemaService;
  const { insert, decide, rowsOf } = schemaHelpers(() => g);

  beforeAll(async () => {
    g = await startTestGraph();
    ({ db, profiles, versions, schemas } = g);
  });
  afterAll(async () => {
    await g?.stop();
  });

  describe('the approval workflow records who and when', () => {
    it('submit and decide (repository) store who, when, the comment and the report', async () => {
      const s = await insert('who-repo', { by: 'creator' });
      const submitted = await db.transaction((r) => r.schemas.submit(s.id, 'submitter', at(100), { compatible: true, n: [1] }));
      expect(submitted).toMatchObject({ status: SchemaStatus.PENDING_APPROVAL, submittedBy: 'submitter', submittedAt: at(100), compatibility: { compatible: true, n: [1] }, decidedBy: null });
      const decided = await decide(s.id, SchemaStatus.REJECTED, 'decider', at(200), 'too strict');
      expect(decided).toMatchObject({ status: SchemaStatus.REJECTED, createdBy: 'creator', submittedBy: 'submitter', submittedAt: at(100), decidedBy: 'decider', decidedAt: at(200), decisionComment: 'too strict' });
      expect(await db.read((r) => r.schemas.get(s.id))).toEqual(decided);
      const [row] = await rowsOf('who-repo');
      expect(row).toMatchObject({ status: 'REJECTED', created_by: 'creator', submitted_by: 'submitter', decided_by: 'decider', decision_comment: 'too strict' });
      expect((row!.decided_at as Date).toISOString()).toBe(at(200).toISOString());
    });

    it('the service stamps each step with its caller and its clock', async () => {
      // The service's clock is the system's: only Date is faked, timers run as usual.
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(at(1000));
        const s = await schemas.register(dev('dana'), { name: 'who-service', schema: { type: 'object' } });
        expect(s).toMatchObject({ createdBy: 'dana', createdAt: at(1000), submittedBy: null, decidedBy: null });
        vi.setSystemTime(at(1001));
        const submitted = await schemas.submit(dev('sam'), s.id);
        expect(submitted).toMatchObject({ status: SchemaStatus.PENDING_APPROVAL, submittedBy: 'sam', submittedAt: at(1001) });
        expect(submitted.compatibility).toMatchObject({ previousApprovedVersion: null, compatible: true, computedAt: at(1001).toISOString() });
        vi.setSystemTime(at(1002));
        const approved = await schemas.approve(admin('ada'), s.id, 'ship it');
        expect(approved).toMatchObject({ status: SchemaStatus.APPROVED, createdBy: 'dana', submittedBy: 'sam', decidedBy: 'ada', decidedAt: at(1002), decisionComment: 'ship it' });
        expect(await db.read((r) => r.schemas.get(s.id))).toEqual(approved);
      } finally {
        vi.useRealTimers();
      }
    });

    it('concurrent submissions of one DRAFT: exactly one wins, the others are CONFLICT', async () => {
      const s = await schemas.register(dev('x'), { name: 'race-submit', schema: { type: 'object' } });
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => schemas.submit(dev(`submitter-${i}`), s.id)));
      const codes = outcomes(results);
      expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
      expect(codes.filter((c) => c === 'CONFLICT')).toHaveLength(7);
      const winner = results.find((r): r is PromiseFulfilledResult<SchemaRecord> => r.status === 'fulfilled')!.value;
      expect((await db.read((r) => r.schemas.get(s.id)))?.submittedBy).toBe(winner.submittedBy);
    });

    it('concurrent approve and reject of one PENDING_APPROVAL: exactly one decision is stored', async () => {
      const s = await schemas.register(dev('x'), { name: 'race-decide', schema: { type: 'object' } });
      await schemas.submit(dev('x'), s.id);
      const results = await Promise.allSettled([
        schemas.approve(admin('approver-1'), s.id, null),
        schemas.reject(admin('rejecter-1'), s.id, 'no'),
        schemas.approve(admin('approver-2'), s.id, null),
        schemas.reject(admin('rejecter-2'), s.id, 'no'),
      ]);
      expect(outcomes(results).sort()).toEqual(['CONFLICT', 'CONFLICT', 'CONFLICT', 'ok']);
      const winner = results.find((r): r is PromiseFulfilledResult<SchemaRecord> => r.status === 'fulfilled')!.value;
      expect(await db.read((r) => r.schemas.get(s.id))).toEqual(winner);
    });
  });

  describe('boundProfiles', () => {
    it('returns each profile bound to any version of the name, with its active and latest configs, by profile name', async () => {
      const v1 = await insert('bp');
      const v2 = await insert('bp');
      const other = await insert('bp-x');
      const b = await profiles.create({ name: 'bp-b', service: 'bp', environment: Environment.STAGING, schemaId: v1.id });
      await profiles.create({ name: 'bp-a', service: 'bp', environment: Environment.STAGING, schemaId: v2.id });
      const c = await profiles.create({ name: 'bp-c', service: 'bp', environment: Environment.DEVELOPMENT, schemaId: v1.id });
      await profiles.create({ name: 'bp-other', service: 'bp', environment: Environment.STAGING, schemaId: other.id });
      await profiles.create({ name: 'bp-unbound', service: 'bp', environment: Environment.STAGING });
      for (const n of [1, 2, 3]) await versions.publish('bp-b', { data: { n } }, 't');
      await versions.publish('bp-c', { data: { only: true } }, 't');
      await versions.publish('bp-other', { data: { x: 1 } }, 't');
      await db.transaction((r) => r.profiles.setActiveVersion(b.id, 2));
      await db.transaction((r) => r.profiles.setActiveVersion(c.id, 1));

      const bound = await db.read((r) => r.schemas.boundProfiles('bp'));
      expect(bound).toEqual([
        { profileName: 'bp-a', configs: [] },
        { profileName: 'bp-b', configs: [{ which: 'active', version: 2, data: { n: 2 } }, { which: 'latest', version: 3, data: { n: 3 } }] },
        { profileName: 'bp-c', configs: [{ which: 'active', version: 1, data: { only: true } }, { which: 'latest', version: 1, data: { only: true } }] },
      ]);
      expect(await db.read((r) => r.schemas.boundProfiles('bp-x'))).toEqual([{ profileName: 'bp-other', configs: [{ which: 'latest', version: 1, data: { x: 1 } }] }]);
      expect(await db.read((r) => r.schemas.boundProfiles('nobody-binds-this'))).toEqual([]);
    });
  });

  describe('integrity', () => {
    it('the foreign key keeps a schema bound to a profile from being deleted', async () => {
      const bound = await insert('fk-bound');
      const free = await insert('fk-free');
      await profiles.create({ name: 'fk-profile', service: 'fk', environment: Environment.STAGING, schemaId: bound.id });
      await expect(g.tdb.query('delete from config_schema where id = $1', [bound.id])).rejects.toMatchObject({ code: '23503' });
      expect(await rowsOf('fk-bound')).toHaveLength(1);
      await g.tdb.query('delete from config_schema where id = $1', [free.id]);
      expect(await rowsOf('fk-free')).toHaveLength(0);
      // Unbound, it may go.
      await profiles.update('fk-profile', { schemaId: null });
      await g.tdb.query('delete from config_schema where id = $1', [bound.id]);
      expect(await rowsOf('fk-bound')).toHaveLength(0);
    });

    it('a failing transaction writes nothing: no row, and the next registration is still version 1', async () => {
      const failed = db.transaction(async (r) => {
        const s = await r.schemas.insertNextVersion(
          { id: randomUUID(), name: 'rolled-back', schema: { type: 'object' }, hash: 'h', description: null, createdBy: 'x' },
          new Date(),
        );
        await r.schemas.submit(s.id, 'x', new Date(), null);
        expect((await r.schemas.get(s.id))?.status).toBe(SchemaStatus.PENDING_APPROVAL);
        throw new Error('boom');
      });
      await expect(failed).rejects.toThrow('boom');
      expect(await rowsOf('rolled-back')).toHaveLength(0);
      expect((await insert('rolled-back')).schemaVersion).toBe(1);
    });

    it('a failing transaction leaves an existing schema as it was', async () => {
      const s = await insert('rolled-back-decision');
      await db.transaction((r) => r.schemas.submit(s.id, 'sub', at(5), { compatible: true }));
      const before = await db.read((r) => r.schemas.get(s.id));
      await expect(
        db.transaction(async (r) => {
          await r.schemas.decide(s.id, { status: SchemaStatus.APPROVED, by: 'ghost', comment: 'never', at: new Date() });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect(await db.read((r) => r.schemas.get(s.id))).toEqual(before);
      expect(before?.status).toBe(SchemaStatus.PENDING_APPROVAL);
    });

    it('a schema that does not compile is refused before anything is written', async () => {
      await expect(schemas.register(dev('x'), { name: 'never-stored', schema: { type: 'nope' } })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      await expect(schemas.register(dev('x'), { name: 'never-stored', schema: [] })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(await rowsOf('never-stored')).toHaveLength(0);
    });
  });
});
