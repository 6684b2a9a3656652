import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../src/domain/authorization.js';
import { Role, SchemaStatus } from '../../src/domain/enums.js';
import type { JsonObject } from '../../src/domain/json.js';
import type { SchemaRecord } from '../../src/domain/records.js';
import type { SchemaService } from '../../src/services/schema.service.js';
import type { Database } from '../../src/store/database.js';
import { startTestGraph, type StoreGraph } from '../support/graph.js';
import { schemaHelpers } from '../support/storage.js';

const T0 = new Date('2001-02-03T04:05:06.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const dev = (sub: string): Principal => ({ sub, role: Role.DEVELOPER });

describe('schema storage on PostgreSQL', () => {
  let g: StoreGraph;
  let db: Database;
  let schemas: SchemaService;
  const { compiler, insert, decide, rowsOf } = schemaHelpers(() => g);

  beforeAll(async () => {
    g = await startTestGraph();
    ({ db, schemas } = g);
  });
  afterAll(async () => {
    await g?.stop();
  });

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
      const dup = g.tdb.query(
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
    const [row] = await g.tdb.query<{ kind: string; title: string; max: string }>(
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
});
