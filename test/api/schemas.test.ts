import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import { LIST, REGISTER, type SchemaShape, schemaCalls, SUBMIT, UNKNOWN_ID } from '../support/schemas.js';
import { startTestServer, type TestServer } from '../support/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('schemas API', () => {
  let server: TestServer;
  let a: Api;
  let dev: string;
  let admin: string;

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
    dev = await a.token(Role.DEVELOPER, 'dev-alice');
    admin = await a.token(Role.ADMIN, 'admin-bob');
  });
  afterAll(async () => {
    await server?.stop();
  });

  const { register, submit, read, pending, rowCount, totalRows, validate } = schemaCalls(() => ({ a, server, dev, admin }));

  describe('registerSchema', () => {
    it('registers a DRAFT as DEVELOPER: every field returned, and the same read back', async () => {
      const schema = { type: 'object', properties: { port: { type: 'integer', minimum: 1 } }, required: ['port'] };
      const before = Date.now();
      const s = await register('reg-ok', schema, dev, 'ports of the orders service');
      expect(s).toMatchObject({
        name: 'reg-ok',
        schemaVersion: 1,
        schema,
        status: 'DRAFT',
        description: 'ports of the orders service',
        createdBy: 'dev-alice',
        approvedBy: null,
        rejectedBy: null,
        submittedBy: null,
        submittedAt: null,
        decidedAt: null,
        decisionComment: null,
        compatibility: null,
      });
      expect(s.id).toMatch(UUID);
      expect(Math.abs(new Date(s.createdAt).getTime() - before)).toBeLessThan(60_000);
      expect(await read(s.id)).toEqual(s);
      expect(await rowCount('reg-ok')).toBe(1);
    });

    it('registering an existing name creates schemaVersion 2, 3, … with their own ids', async () => {
      const v1 = await register('reg-versions', { type: 'object' });
      const v2 = await register('reg-versions', { type: 'object', properties: { a: { type: 'string' } } }, admin);
      const v3 = await register('reg-versions', { type: 'object', properties: { a: { type: 'number' } } });
      expect([v1.schemaVersion, v2.schemaVersion, v3.schemaVersion]).toEqual([1, 2, 3]);
      expect(new Set([v1.id, v2.id, v3.id]).size).toBe(3);
      expect(v2.createdBy).toBe('admin-bob');
      expect(await read(v2.id)).toEqual(v2);
      const listed = ok(await a.gql<{ schemas: SchemaShape[] }>(LIST, {})).schemas.filter((s) => s.name === 'reg-versions');
      expect(listed.map((s) => s.schemaVersion)).toEqual([3, 2, 1]);
    });

    it.each([
      ['an array', [{ type: 'object' }], /JSON object, got array/],
      ['a string', '{"type":"object"}', /JSON object, got string/],
      ['a number', 42, /JSON object/],
    ])('refuses a schema that is %s (BAD_USER_INPUT) and writes nothing', async (_label, schema, message) => {
      const before = await totalRows();
      const res = await a.gql(REGISTER, { input: { name: 'reg-not-object', schema } }, dev);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(message);
      expect(res.errors?.[0]?.extensions?.field).toBe('schema');
      expect(await totalRows()).toBe(before);
    });

    it('refuses a schema that does not compile ({type: "nope"}) with the compiler\'s message', async () => {
      const res = await a.gql(REGISTER, { input: { name: 'reg-nope', schema: { type: 'nope' } } }, dev);
      expectRefused(res, 'BAD_USER_INPUT');
      const message = res.errors?.[0]?.message ?? '';
      expect(message).toMatch(/^schema is invalid: /);
      expect(message).toContain('/type must be equal to one of the allowed values');
      expect(await rowCount('reg-nope')).toBe(0);
    });

    it('refuses a remote $ref: it is not fetched', async () => {
      const schema = { type: 'object', properties: { x: { $ref: 'https://example.com/x.json' } } };
      const res = await a.gql(REGISTER, { input: { name: 'reg-remote', schema } }, dev);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toContain('https://example.com/x.json');
      expect(res.errors?.[0]?.message).toMatch(/is not fetched/);
      expect(res.errors?.[0]?.extensions?.path).toBe('/properties/x/$ref');
      expect(await rowCount('reg-remote')).toBe(0);
    });

    it('refuses a bad name, an unsupported $schema and a missing schema, writing nothing', async () => {
      const before = await totalRows();
      const badName = await a.gql(REGISTER, { input: { name: 'Not A Slug', schema: { type: 'object' } } }, dev);
      expectRefused(badName, 'BAD_USER_INPUT');
      expect(badName.errors?.[0]?.extensions?.field).toBe('name');
      const draft4 = await a.gql(REGISTER, { input: { name: 'reg-draft4', schema: { $schema: 'http://json-schema.org/draft-04/schema#' } } }, dev);
      expectRefused(draft4, 'BAD_USER_INPUT');
      expect(draft4.errors?.[0]?.message).toMatch(/is not supported/);
      expectRefused(await a.gql(REGISTER, { input: { name: 'reg-null', schema: null } }, dev), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`mutation { registerSchema(input: { name: "reg-missing" }) { id } }`, {}, dev), 'BAD_USER_INPUT');
      expect(await totalRows()).toBe(before);
    });

    it('refuses a schema over the schema size limit but under the body limit (BAD_USER_INPUT naming the limit)', async () => {
      const schema = { type: 'object', description: 'd'.repeat(600 * 1024) };
      const started = Date.now();
      const res = await a.gql(REGISTER, { input: { name: 'reg-big', schema } }, dev);
      expect(Date.now() - started).toBeLessThan(5_000);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/the limit is 524,288 bytes/);
      expect(await rowCount('reg-big')).toBe(0);
    });

    it('refuses a 5 MB schema quickly: over the body limit, HTTP 413 with BAD_USER_INPUT', async () => {
      const schema = { type: 'object', description: 'x'.repeat(5 * 1024 * 1024) };
      const started = Date.now();
      const res = await a.raw(JSON.stringify({ query: REGISTER, variables: { input: { name: 'reg-huge', schema } } }), { authorization: `Bearer ${dev}` });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(res.status).toBe(413);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors?.[0]?.message).toMatch(/larger than the limit/);
      expect(await rowCount('reg-huge')).toBe(0);
    });

    it('accepts a draft-07 schema (definitions, local $ref) and validates with it', async () => {
      const schema = {
        $schema: 'http://json-schema.org/draft-07/schema#',
        definitions: { port: { type: 'integer', minimum: 1, maximum: 65535 } },
        type: 'object',
        properties: { port: { $ref: '#/definitions/port' }, tags: { type: 'array', items: [{ type: 'string' }], additionalItems: false } },
        required: ['port'],
        dependencies: { tls: ['cert'] },
      };
      const s = await register('reg-draft07', schema);
      expect(s).toMatchObject({ schemaVersion: 1, status: 'DRAFT', schema });
      expect(ok(await validate(s.id, { port: 8080, tags: ['x'] })).validateConfig).toEqual({ valid: true, errors: [] });
      const bad = ok(await validate(s.id, { port: 0, tags: ['x', 'y'], tls: true })).validateConfig;
      expect(bad.valid).toBe(false);
      expect(bad.errors.map((e) => [e.path, e.keyword]).sort()).toEqual(
        [['/cert', 'dependencies'], ['/port', 'minimum'], ['/tags', 'additionalItems']].sort(),
      );
    });
  });

  describe('submitSchemaForApproval', () => {
    it('moves a DRAFT to PENDING_APPROVAL as DEVELOPER, recording who, when and a compatibility report', async () => {
      const s = await register('sub-ok', { type: 'object' });
      const before = Date.now();
      const submitted = await submit(s.id, dev);
      expect(submitted).toMatchObject({ id: s.id, status: 'PENDING_APPROVAL', submittedBy: 'dev-alice', approvedBy: null, rejectedBy: null, decidedAt: null });
      expect(Math.abs(new Date(submitted.submittedAt!).getTime() - before)).toBeLessThan(60_000);
      expect(submitted.compatibility).toMatchObject({ previousApprovedVersion: null, breakingChanges: [], profiles: [], compatible: true });
      expect(await read(s.id)).toEqual(submitted);
    });

    it('refuses submitting twice (CONFLICT); the first submission is kept', async () => {
      const first = await pending('sub-twice');
      const res = await a.gql(SUBMIT, { id: first.id }, admin);
      expectRefused(res, 'CONFLICT');
      expect(res.errors?.[0]?.message).toContain('PENDING_APPROVAL');
      expect(await read(first.id)).toEqual(first);
    });

    it('refuses an unknown id and a malformed id (NOT_FOUND)', async () => {
      const before = await totalRows();
      expectRefused(await a.gql(SUBMIT, { id: UNKNOWN_ID }, dev), 'NOT_FOUND');
      expectRefused(await a.gql(SUBMIT, { id: 'not-a-uuid' }, dev), 'NOT_FOUND');
      expect(await totalRows()).toBe(before);
    });
  });
});
