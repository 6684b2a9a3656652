import type { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/authorization.js';
import { Environment, Role, SchemaStatus } from '../../src/domain/enums.js';
import type { JsonObject } from '../../src/domain/json.js';
import type { SchemaRecord } from '../../src/domain/records.js';
import { ProfileService } from '../../src/services/profile.service.js';
import { SchemaService } from '../../src/services/schema.service.js';
import { VersionService } from '../../src/services/version.service.js';
import { Database } from '../../src/store/database.js';
import { openOrm } from '../../src/store/orm.js';
import { SandboxedValidator } from '../../src/json-schema/sandboxed-validator.js';
import { SchemaCompiler } from '../../src/json-schema/schema-compiler.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const LIMITS = { maxBytes: 1024 * 1024, maxDepth: 64 };
const T0 = new Date('2001-02-03T04:05:06.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const dev = (sub: string): Principal => ({ sub, role: Role.DEVELOPER });
const admin = (sub: string): Principal => ({ sub, role: Role.ADMIN });

/** The settled outcomes of concurrent calls, as 'ok' or the error's code. */
function outcomes(results: PromiseSettledResult<unknown>[]): string[] {
  return results.map((r) => (r.status === 'fulfilled' ? 'ok' : String((r.reason as { code?: unknown }).code ?? (r.reason as Error).message)));
}

describe('schema storage on PostgreSQL', () => {
  let tdb: TestDatabase;
  let orm: MikroORM;
  let db: Database;
  let compiler: SchemaCompiler;
  const sandbox = new SandboxedValidator({ maxSchemaBytes: 512 * 1024, timeoutMs: 5000, memoryMb: 128 });
  let schemas: SchemaService;
  let profiles: ProfileService;
  let versions: VersionService;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    orm = await openOrm(tdb.url);
    db = new Database(orm);
    compiler = new SchemaCompiler({ maxSchemaBytes: 512 * 1024 });
    schemas = new SchemaService(db, compiler, sandbox);
    profiles = new ProfileService(db, schemas);
    versions = new VersionService(db, LIMITS, schemas);
  });
  afterAll(async () => {
    await orm?.close();
    await tdb?.drop();
  });

  /** Inserts the next version of `name` straight through the repository. */
  function insert(name: string, options: { schema?: JsonObject; at?: Date; by?: string } = {}): Promise<SchemaRecord> {
    const schema = options.schema ?? { type: 'object' };
    return db.transaction((r) =>
      r.schemas.insertNextVersion(
        { id: randomUUID(), name, schema, hash: compiler.compile(schema).hash, description: null, createdBy: options.by ?? 'writer' },
        options.at ?? new Date(),
      ),
    );
  }

  function decide(id: string, status: SchemaStatus, by = 'admin', when = new Date(), comment: string | null = null): Promise<SchemaRecord> {
    return db.transaction((r) => r.schemas.decide(id, { status, by, comment, at: when }));
  }

  async function rowsOf(name: string): Promise<Array<Record<string, unknown>>> {
    return tdb.query('select * from config_schema where name = $1 order by schema_version', [name]);
  }

  describe('schemaVersion numbering', () => {
    it('20 concurrent registrations of one name get schemaVersions 1…20: consecutive, no duplicates', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          schemas.register(dev(`writer-${i}`), { name: 'concurrent', schema: { type: 'object', properties: { [`p${i}`]: { type: 'integer' } } } }),
        ),
      );
      expect(results.map((s) => s.schemaVersion).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const rows = await rowsOf('concurrent');
      expect(rows.map((r) => r.schema_version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(new Set(rows.map((r) => r.id)).size).toBe(20);
      // Each row holds what its own call registered.
      for (const s of results) {
        const i = Number(s.createdBy.replace('writer-', ''));
        const stored = await db.read((r) => r.schemas.get(s.id));
        expect(stored).toEqual(s);
        expect(stored?.schema).toEqual({ type: 'object', properties: { [`p${i}`]: { type: 'integer' } } });
        expect(stored?.status).toBe(SchemaStatus.DRAFT);
      }
    });

    it('concurrent registrations of two names number each name on its own', async () => {
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => schemas.register(dev('w'), { name: i % 2 === 0 ? 'even-name' : 'odd-name', schema: { type: 'object', title: `t${i}` } })),
      );
      for (const name of ['even-name', 'odd-name']) {
        const mine = results.filter((s) => s.name === name).map((s) => s.schemaVersion).sort((x, y) => x - y);
        expect(mine).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      }
    });

    it('the unique (name, schema_version) constraint refuses a duplicate written by hand', async () => {
      const first = await insert('unique-check');
      const dup = tdb.query(
        `insert into config_schema (id, name, schema_version, schema, hash, status, created_by, created_at)
         values ($1, 'unique-check', 1, '{}'::jsonb, $2, 'DRAFT', 'x', now())`,
        [randomUUID(), first.hash],
      );
      await expect(dup).rejects.toMatchObject({ code: '23505' });
      expect(await rowsOf('unique-check')).toHaveLength(1);
    });
  });

  it('round-trips a schema through jsonb: nesting, unicode, numbers, odd keys', async () => {
    const schema: JsonObject = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      title: 'Größe 🚀 "quoted" \\ back\nslash',
      type: 'object',
      definitions: { port: { type: 'integer', minimum: -1.5, maximum: 9007199254740991, multipleOf: 0.5 } },
      properties: {
        $ref: { type: 'string' },
        'a/b~c': { type: ['string', 'null'], enum: ['x', null, 'é'] },
        '': { type: 'boolean', default: false },
        port: { $ref: '#/definitions/port' },
        list: { type: 'array', items: [{ type: 'number' }, { const: { nested: [1, [2, [3]], {}] } }], additionalItems: true },
      },
      required: [],
      examples: [{}, [], 0, true, null],
    };
    const stored = await schemas.register(dev('rt'), { name: 'round-trip', schema, description: 'ünïcødé' });
    const read = await db.read((r) => r.schemas.get(stored.id));
    expect(read?.schema).toEqual(schema);
    expect(read?.description).toBe('ünïcødé');
    expect(read?.hash).toBe(compiler.compile(schema).hash);
    // Stored as jsonb (queryable), not as a string.
    const [row] = await tdb.query<{ kind: string; title: string; max: string }>(
      `select jsonb_typeof(schema) as kind, schema->>'title' as title, schema#>>'{definitions,port,maximum}' as max from config_schema where id = $1`,
      [stored.id],
    );
    expect(row).toEqual({ kind: 'object', title: schema.title, max: '9007199254740991' });
  });

  describe('list', () => {
    it('lists newest first (ties: name, then schemaVersion descending) and filters by status', async () => {
      const a1 = await insert('lst-a', { at: at(0) });
      const b1 = await insert('lst-b', { at: at(1) });
      const a2 = await insert('lst-a', { at: at(2) });
      const c1 = await insert('lst-c', { at: at(2) });
      const d1 = await insert('lst-d', { at: at(3) });
      const d2 = await insert('lst-d', { at: at(3) });
      await decide(b1.id, SchemaStatus.APPROVED);
      await decide(a1.id, SchemaStatus.REJECTED);
      await db.transaction((r) => r.schemas.submit(d1.id, 'sub', at(10), null));

      const mine = (list: SchemaRecord[]) => list.filter((s) => s.name.startsWith('lst-')).map((s) => `${s.name}@${s.schemaVersion}`);
      expect(mine(await db.read((r) => r.schemas.list(null)))).toEqual(['lst-d@2', 'lst-d@1', 'lst-a@2', 'lst-c@1', 'lst-b@1', 'lst-a@1']);
      expect(mine(await db.read((r) => r.schemas.list(SchemaStatus.DRAFT)))).toEqual(['lst-d@2', 'lst-a@2', 'lst-c@1']);
      expect(mine(await db.read((r) => r.schemas.list(SchemaStatus.APPROVED)))).toEqual(['lst-b@1']);
      expect(mine(await db.read((r) => r.schemas.list(SchemaStatus.REJECTED)))).toEqual(['lst-a@1']);
      expect(mine(await db.read((r) => r.schemas.list(SchemaStatus.PENDING_APPROVAL)))).toEqual(['lst-d@1']);
      for (const status of Object.values(SchemaStatus)) {
        const listed = await db.read((r) => r.schemas.list(status));
        expect(listed.every((s) => s.status === status)).toBe(true);
      }
      expect([a2.schemaVersion, c1.schemaVersion, d2.schemaVersion]).toEqual([2, 1, 2]);
    });
  });

  describe('previousApproved', () => {
    it('picks the newest APPROVED version below the given one, of that name only', async () => {
      const v = [] as SchemaRecord[];
      for (let i = 0; i < 5; i++) v.push(await insert('prev'));
      await decide(v[0]!.id, SchemaStatus.APPROVED);
      await decide(v[1]!.id, SchemaStatus.REJECTED);
      await decide(v[2]!.id, SchemaStatus.APPROVED);
      await db.transaction((r) => r.schemas.submit(v[3]!.id, 's', new Date(), null));
      for (let i = 0; i < 4; i++) await decide((await insert('prev-other')).id, SchemaStatus.APPROVED);

      const previous = (below: number) => db.read((r) => r.schemas.previousApproved('prev', below));
      expect((await previous(5))?.id).toBe(v[2]!.id);
      expect((await previous(4))?.id).toBe(v[2]!.id);
      expect((await previous(3))?.id).toBe(v[0]!.id);
      expect((await previous(2))?.id).toBe(v[0]!.id);
      expect(await previous(1)).toBeNull();
      expect((await previous(100))?.schemaVersion).toBe(3);
      expect(await db.read((r) => r.schemas.previousApproved('prev-none', 10))).toBeNull();
    });
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
      let now = at(1000);
      const clocked = new SchemaService(db, compiler, sandbox, () => now);
      const s = await clocked.register(dev('dana'), { name: 'who-service', schema: { type: 'object' } });
      expect(s).toMatchObject({ createdBy: 'dana', createdAt: at(1000), submittedBy: null, decidedBy: null });
      now = at(1001);
      const submitted = await clocked.submit(dev('sam'), s.id);
      expect(submitted).toMatchObject({ status: SchemaStatus.PENDING_APPROVAL, submittedBy: 'sam', submittedAt: at(1001) });
      expect(submitted.compatibility).toMatchObject({ previousApprovedVersion: null, compatible: true, computedAt: at(1001).toISOString() });
      now = at(1002);
      const approved = await clocked.approve(admin('ada'), s.id, 'ship it');
      expect(approved).toMatchObject({ status: SchemaStatus.APPROVED, createdBy: 'dana', submittedBy: 'sam', decidedBy: 'ada', decidedAt: at(1002), decisionComment: 'ship it' });
      expect(await db.read((r) => r.schemas.get(s.id))).toEqual(approved);
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
      await expect(tdb.query('delete from config_schema where id = $1', [bound.id])).rejects.toMatchObject({ code: '23503' });
      expect(await rowsOf('fk-bound')).toHaveLength(1);
      await tdb.query('delete from config_schema where id = $1', [free.id]);
      expect(await rowsOf('fk-free')).toHaveLength(0);
      // Unbound, it may go.
      await profiles.update('fk-profile', { schemaId: null });
      await tdb.query('delete from config_schema where id = $1', [bound.id]);
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
