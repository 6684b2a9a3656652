import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import {
  api,
  type Api,
  approvedSchema,
  createProfile,
  expectRefused,
  ok,
  PROFILE_FIELDS,
  publish,
  readProfile,
} from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SCHEMA_FIELDS =
  'id name schemaVersion schema status description createdBy approvedBy rejectedBy submittedBy submittedAt decidedAt decisionComment compatibility createdAt';
const REGISTER = `mutation($input: RegisterSchemaInput!) { registerSchema(input: $input) { ${SCHEMA_FIELDS} } }`;
const SUBMIT = `mutation($id: ID!) { submitSchemaForApproval(id: $id) { ${SCHEMA_FIELDS} } }`;
const APPROVE = `mutation($id: ID!, $comment: String) { approveSchema(id: $id, comment: $comment) { ${SCHEMA_FIELDS} } }`;
const REJECT = `mutation($id: ID!, $reason: String!) { rejectSchema(id: $id, reason: $reason) { ${SCHEMA_FIELDS} } }`;
const LIST = `query($status: SchemaStatus) { schemas(status: $status) { ${SCHEMA_FIELDS} } }`;
const GET = `query($id: ID!) { schema(id: $id) { ${SCHEMA_FIELDS} } }`;
const VALIDATE = `query($id: ID!, $data: JSON!) { validateConfig(schemaId: $id, data: $data) { valid errors { path message keyword } } }`;
const CREATE_PROFILE = `mutation($input: CreateProfileInput!) { createProfile(input: $input) { ${PROFILE_FIELDS} schema { id name schemaVersion status } } }`;
const UPDATE_PROFILE = `mutation($n: String!, $input: UpdateProfileInput!) { updateProfile(name: $n, input: $input) { name schema { id schemaVersion status } } }`;
const PROFILE_SCHEMA = `query($n: String!) { profile(name: $n) { name schema { ${SCHEMA_FIELDS} } versions { totalCount } } }`;
const PUBLISH = `mutation($p: String!, $input: PublishVersionInput!) { publishVersion(profileName: $p, input: $input) { version data } }`;

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Issue {
  path: string;
  message: string;
  keyword: string;
}

interface CompatibilityShape {
  previousApprovedVersion: number | null;
  breakingChanges: Array<{ path: string; kind: string; message: string }>;
  profiles: Array<{ profileName: string; which: string; version: number; valid: boolean; errors: Issue[] }>;
  compatible: boolean;
  computedAt: string;
}

interface SchemaShape {
  id: string;
  name: string;
  schemaVersion: number;
  schema: unknown;
  status: string;
  description: string | null;
  createdBy: string;
  approvedBy: string | null;
  rejectedBy: string | null;
  submittedBy: string | null;
  submittedAt: string | null;
  decidedAt: string | null;
  decisionComment: string | null;
  compatibility: CompatibilityShape | null;
  createdAt: string;
}

/** A schema with a required nested property, a typed property and an enum. */
const SERVER_SCHEMA = {
  type: 'object',
  required: ['server', 'mode'],
  properties: {
    server: {
      type: 'object',
      required: ['port', 'host'],
      properties: { port: { type: 'integer' }, host: { type: 'string' } },
    },
    mode: { enum: ['a', 'b'] },
    replicas: { type: 'integer' },
  },
};

describe('schemas API', () => {
  let server: TestServer;
  let a: Api;
  let dev: string;
  let admin: string;
  let operator: string;
  let instance: string;

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
    dev = await a.token(Role.DEVELOPER, 'dev-alice');
    admin = await a.token(Role.ADMIN, 'admin-bob');
    operator = await a.token(Role.OPERATOR, 'op-carol');
    instance = await a.instanceToken('instance-7');
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function register(name: string, schema: unknown, token: string = dev, description?: string): Promise<SchemaShape> {
    return ok(await a.gql<{ registerSchema: SchemaShape }>(REGISTER, { input: { name, schema, description } }, token)).registerSchema;
  }
  async function submit(id: string, token: string = dev): Promise<SchemaShape> {
    return ok(await a.gql<{ submitSchemaForApproval: SchemaShape }>(SUBMIT, { id }, token)).submitSchemaForApproval;
  }
  async function approve(id: string, comment?: string, token: string = admin): Promise<SchemaShape> {
    return ok(await a.gql<{ approveSchema: SchemaShape }>(APPROVE, { id, comment }, token)).approveSchema;
  }
  async function reject(id: string, reason: string, token: string = admin): Promise<SchemaShape> {
    return ok(await a.gql<{ rejectSchema: SchemaShape }>(REJECT, { id, reason }, token)).rejectSchema;
  }
  /** The schema as stored (read back as ADMIN). */
  async function read(id: string): Promise<SchemaShape | null> {
    return ok(await a.gql<{ schema: SchemaShape | null }>(GET, { id })).schema;
  }
  async function pending(name: string, schema: unknown = { type: 'object' }): Promise<SchemaShape> {
    return submit((await register(name, schema)).id);
  }
  /** Rows stored under `name`, straight from PostgreSQL. */
  async function rowCount(name: string): Promise<number> {
    const rows = await server.db.query<{ n: number }>('select count(*)::int as n from config_schema where name = $1', [name]);
    return rows[0]?.n ?? 0;
  }
  async function totalRows(): Promise<number> {
    const rows = await server.db.query<{ n: number }>('select count(*)::int as n from config_schema');
    return rows[0]?.n ?? 0;
  }
  async function validate(id: string, data: unknown, token: string | null = dev) {
    return a.gql<{ validateConfig: { valid: boolean; errors: Issue[] } }>(VALIDATE, { id, data }, token);
  }

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

    it('refuses a caller without a token (UNAUTHENTICATED) and writes nothing', async () => {
      const res = await a.gql(REGISTER, { input: { name: 'reg-anon', schema: { type: 'object' } } }, null);
      expectRefused(res, 'UNAUTHENTICATED');
      expect(await rowCount('reg-anon')).toBe(0);
    });

    it.each([Role.OPERATOR, Role.INSTANCE])('refuses role %s (FORBIDDEN) and writes nothing', async (role) => {
      const name = `reg-${role.toLowerCase()}`;
      const res = await a.gql(REGISTER, { input: { name, schema: { type: 'object' } } }, role === Role.INSTANCE ? instance : operator);
      expectRefused(res, 'FORBIDDEN');
      expect(res.errors?.[0]?.message).toContain(role);
      expect(await rowCount(name)).toBe(0);
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

    it('refuses a caller without a token (UNAUTHENTICATED); the schema stays DRAFT', async () => {
      const s = await register('sub-anon', { type: 'object' });
      expectRefused(await a.gql(SUBMIT, { id: s.id }, null), 'UNAUTHENTICATED');
      expect(await read(s.id)).toEqual(s);
    });

    it.each([Role.OPERATOR, Role.INSTANCE])('refuses role %s (FORBIDDEN); the schema stays DRAFT', async (role) => {
      const s = await register(`sub-${role.toLowerCase()}`, { type: 'object' });
      const res = await a.gql(SUBMIT, { id: s.id }, role === Role.INSTANCE ? instance : operator);
      expectRefused(res, 'FORBIDDEN');
      expect(await read(s.id)).toEqual(s);
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

  describe('approveSchema', () => {
    it('approves as ADMIN with a comment: approvedBy, decidedAt and decisionComment are kept', async () => {
      const s = await pending('appr-ok');
      const before = Date.now();
      const approved = await approve(s.id, 'looks right', admin);
      expect(approved).toMatchObject({
        id: s.id,
        status: 'APPROVED',
        createdBy: 'dev-alice',
        submittedBy: 'dev-alice',
        submittedAt: s.submittedAt,
        approvedBy: 'admin-bob',
        rejectedBy: null,
        decisionComment: 'looks right',
        compatibility: s.compatibility,
      });
      expect(Math.abs(new Date(approved.decidedAt!).getTime() - before)).toBeLessThan(60_000);
      expect(await read(s.id)).toEqual(approved);
    });

    it('approves without a comment (decisionComment null)', async () => {
      const s = await pending('appr-nocomment');
      const approved = await approve(s.id);
      expect(approved).toMatchObject({ status: 'APPROVED', approvedBy: 'admin-bob', decisionComment: null });
      expect(await read(s.id)).toEqual(approved);
    });

    it('refuses a caller without a token (UNAUTHENTICATED); the schema stays PENDING_APPROVAL', async () => {
      const s = await pending('appr-anon');
      expectRefused(await a.gql(APPROVE, { id: s.id }, null), 'UNAUTHENTICATED');
      expect(await read(s.id)).toEqual(s);
    });

    it('refuses a DEVELOPER approving their own schema (FORBIDDEN)', async () => {
      const s = await pending('appr-own');
      expect(s.createdBy).toBe('dev-alice');
      const res = await a.gql(APPROVE, { id: s.id, comment: 'mine, fine' }, dev);
      expectRefused(res, 'FORBIDDEN');
      expect(res.errors?.[0]?.message).toContain('DEVELOPER');
      expect(await read(s.id)).toEqual(s);
    });

    it.each([Role.OPERATOR, Role.INSTANCE])('refuses role %s (FORBIDDEN)', async (role) => {
      const s = await pending(`appr-${role.toLowerCase()}`);
      expectRefused(await a.gql(APPROVE, { id: s.id }, role === Role.INSTANCE ? instance : operator), 'FORBIDDEN');
      expect(await read(s.id)).toEqual(s);
    });

    it('refuses approving a DRAFT never submitted (CONFLICT); it stays DRAFT', async () => {
      const s = await register('appr-draft', { type: 'object' });
      const res = await a.gql(APPROVE, { id: s.id }, admin);
      expectRefused(res, 'CONFLICT');
      expect(res.errors?.[0]?.message).toContain('DRAFT');
      expect(await read(s.id)).toEqual(s);
    });

    it('refuses approving an APPROVED or a REJECTED schema (CONFLICT); the decision is kept', async () => {
      const approved = await approve((await pending('appr-again')).id, 'first');
      const again = await a.gql(APPROVE, { id: approved.id, comment: 'second' }, admin);
      expectRefused(again, 'CONFLICT');
      expect(again.errors?.[0]?.message).toMatch(/APPROVED is final/);
      expect(await read(approved.id)).toEqual(approved);

      const rejected = await reject((await pending('appr-rejected')).id, 'no');
      expectRefused(await a.gql(APPROVE, { id: rejected.id }, admin), 'CONFLICT');
      expect(await read(rejected.id)).toEqual(rejected);
    });

    it('refuses an unknown id (NOT_FOUND) and a comment over 2000 characters (BAD_USER_INPUT)', async () => {
      expectRefused(await a.gql(APPROVE, { id: UNKNOWN_ID }, admin), 'NOT_FOUND');
      const s = await pending('appr-long');
      expectRefused(await a.gql(APPROVE, { id: s.id, comment: 'c'.repeat(2001) }, admin), 'BAD_USER_INPUT');
      expect(await read(s.id)).toEqual(s);
    });
  });

  describe('rejectSchema', () => {
    it('rejects as ADMIN with a reason: rejectedBy, decidedAt and the (trimmed) reason are kept', async () => {
      const s = await pending('rej-ok');
      const rejected = await reject(s.id, '  port must stay optional  ');
      expect(rejected).toMatchObject({
        id: s.id,
        status: 'REJECTED',
        submittedBy: 'dev-alice',
        rejectedBy: 'admin-bob',
        approvedBy: null,
        decisionComment: 'port must stay optional',
      });
      expect(rejected.decidedAt).not.toBeNull();
      expect(await read(s.id)).toEqual(rejected);
    });

    it('refuses a caller without a token (UNAUTHENTICATED)', async () => {
      const s = await pending('rej-anon');
      expectRefused(await a.gql(REJECT, { id: s.id, reason: 'no' }, null), 'UNAUTHENTICATED');
      expect(await read(s.id)).toEqual(s);
    });

    it.each([Role.DEVELOPER, Role.OPERATOR])('refuses role %s (FORBIDDEN)', async (role) => {
      const s = await pending(`rej-${role.toLowerCase()}`);
      const res = await a.gql(REJECT, { id: s.id, reason: 'no' }, role === Role.DEVELOPER ? dev : operator);
      expectRefused(res, 'FORBIDDEN');
      expect(res.errors?.[0]?.message).toContain(role);
      expect(await read(s.id)).toEqual(s);
    });

    it('refuses an empty or blank reason, or none (BAD_USER_INPUT); it stays PENDING_APPROVAL', async () => {
      const s = await pending('rej-noreason');
      const empty = await a.gql(REJECT, { id: s.id, reason: '' }, admin);
      expectRefused(empty, 'BAD_USER_INPUT');
      expect(empty.errors?.[0]?.extensions?.field).toBe('reason');
      expectRefused(await a.gql(REJECT, { id: s.id, reason: '   \n\t ' }, admin), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`mutation($id: ID!) { rejectSchema(id: $id) { id } }`, { id: s.id }, admin), 'BAD_USER_INPUT');
      expect(await read(s.id)).toEqual(s);
    });

    it('refuses rejecting a DRAFT, an APPROVED or a REJECTED schema (CONFLICT)', async () => {
      const draft = await register('rej-draft', { type: 'object' });
      expectRefused(await a.gql(REJECT, { id: draft.id, reason: 'no' }, admin), 'CONFLICT');
      expect(await read(draft.id)).toEqual(draft);
      const approved = await approve((await pending('rej-approved')).id);
      expectRefused(await a.gql(REJECT, { id: approved.id, reason: 'too late' }, admin), 'CONFLICT');
      expect(await read(approved.id)).toEqual(approved);
      const rejected = await reject((await pending('rej-rejected')).id, 'first');
      expectRefused(await a.gql(REJECT, { id: rejected.id, reason: 'second' }, admin), 'CONFLICT');
      expect(await read(rejected.id)).toEqual(rejected);
    });

    it('refuses an unknown id (NOT_FOUND)', async () => {
      expectRefused(await a.gql(REJECT, { id: UNKNOWN_ID, reason: 'no' }, admin), 'NOT_FOUND');
    });
  });

  describe('schemas and schema', () => {
    it('lists every schema newest first, and filters by status', async () => {
      const draft = await register('list-draft', { type: 'object' });
      const pend = await pending('list-pending');
      const appr = await approve((await pending('list-approved')).id);
      const rej = await reject((await pending('list-rejected')).id, 'no');

      const all = ok(await a.gql<{ schemas: SchemaShape[] }>(LIST, {}, operator)).schemas;
      const created = all.map((s) => new Date(s.createdAt).getTime());
      expect(created).toEqual([...created].sort((x, y) => y - x));
      const ids = all.map((s) => s.id);
      for (const s of [draft, pend, appr, rej]) expect(ids).toContain(s.id);
      expect(all.find((s) => s.id === appr.id)).toEqual(appr);

      for (const [status, mine] of [['DRAFT', draft], ['PENDING_APPROVAL', pend], ['APPROVED', appr], ['REJECTED', rej]] as const) {
        const listed = ok(await a.gql<{ schemas: SchemaShape[] }>(LIST, { status }, dev)).schemas;
        expect(listed.length).toBeGreaterThan(0);
        expect(listed.every((s) => s.status === status)).toBe(true);
        expect(listed.map((s) => s.id)).toContain(mine.id);
        expect(listed.length).toBe(all.filter((s) => s.status === status).length);
      }
    });

    it('schema(id) reads one as any reading role; an unknown or malformed id is null', async () => {
      const s = await register('get-ok', { type: 'object', title: 'read me' });
      for (const token of [dev, operator, admin]) {
        expect(ok(await a.gql<{ schema: SchemaShape | null }>(GET, { id: s.id }, token)).schema).toEqual(s);
      }
      expect(ok(await a.gql<{ schema: SchemaShape | null }>(GET, { id: UNKNOWN_ID }, dev)).schema).toBeNull();
      expect(ok(await a.gql<{ schema: SchemaShape | null }>(GET, { id: 'nope' }, dev)).schema).toBeNull();
    });

    it('refuses callers without a token (UNAUTHENTICATED)', async () => {
      const s = await register('read-anon', { type: 'object' });
      expectRefused(await a.gql(LIST, {}, null), 'UNAUTHENTICATED');
      expectRefused(await a.gql(GET, { id: s.id }, null), 'UNAUTHENTICATED');
    });

    it('refuses an INSTANCE token (FORBIDDEN)', async () => {
      const s = await register('read-instance', { type: 'object' });
      expectRefused(await a.gql(LIST, {}, instance), 'FORBIDDEN');
      expectRefused(await a.gql(GET, { id: s.id }, instance), 'FORBIDDEN');
    });

    it('refuses an unknown status and a missing id (BAD_USER_INPUT)', async () => {
      expectRefused(await a.gql(LIST, { status: 'BOGUS' }, dev), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`{ schemas(status: "APPROVED") { id } }`, {}, dev), 'BAD_USER_INPUT');
      expectRefused(await a.gql(`{ schema { id } }`, {}, dev), 'BAD_USER_INPUT');
    });
  });

  describe('validateConfig', () => {
    let serverSchemaId: string;
    beforeAll(async () => {
      serverSchemaId = (await register('val-server', SERVER_SCHEMA)).id;
    });

    it('answers valid with no errors for a matching config (a DRAFT schema validates too)', async () => {
      const res = ok(await validate(serverSchemaId, { server: { port: 80, host: 'h' }, mode: 'a', replicas: 3 }, operator));
      expect(res.validateConfig).toEqual({ valid: true, errors: [] });
    });

    it('returns every failure with its JSON Pointer path, keyword and message', async () => {
      const res = ok(await validate(serverSchemaId, { server: { host: 5 }, mode: 'c', replicas: 'x' }));
      const { valid, errors } = res.validateConfig;
      expect(valid).toBe(false);
      expect(errors).toHaveLength(4);
      expect(errors).toEqual(
        expect.arrayContaining([
          { path: '/server/port', keyword: 'required', message: expect.stringContaining('"port" is required') },
          { path: '/server/host', keyword: 'type', message: expect.stringMatching(/must be string, got integer/) },
          { path: '/mode', keyword: 'enum', message: expect.stringMatching(/must be one of "a", "b", got "c"/) },
          { path: '/replicas', keyword: 'type', message: expect.stringMatching(/must be integer/) },
        ]),
      );
      const missingRoot = ok(await validate(serverSchemaId, {})).validateConfig;
      expect(missingRoot.errors.map((e) => `${e.path} ${e.keyword}`).sort()).toEqual(['/mode required', '/server required']);
    });

    it('refuses a caller without a token (UNAUTHENTICATED)', async () => {
      expectRefused(await validate(serverSchemaId, { a: 1 }, null), 'UNAUTHENTICATED');
    });

    it('refuses an INSTANCE token (FORBIDDEN)', async () => {
      expectRefused(await validate(serverSchemaId, { a: 1 }, instance), 'FORBIDDEN');
    });

    it('refuses an unknown or malformed schemaId (NOT_FOUND) and missing data (BAD_USER_INPUT)', async () => {
      expectRefused(await validate(UNKNOWN_ID, { a: 1 }), 'NOT_FOUND');
      expectRefused(await validate('nope', { a: 1 }), 'NOT_FOUND');
      expectRefused(await a.gql(`query($id: ID!) { validateConfig(schemaId: $id) { valid } }`, { id: serverSchemaId }, dev), 'BAD_USER_INPUT');
    });

    it('answers within seconds for a catastrophic pattern ^(a+)+$ on 50 000 a\'s and a "!"; the server stays healthy', async () => {
      const s = await register('val-redos', { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } });
      const started = Date.now();
      const res = ok(await validate(s.id, { name: `${'a'.repeat(50_000)}!` }));
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(res.validateConfig.valid).toBe(false);
      expect(res.validateConfig.errors).toEqual([expect.objectContaining({ path: '/name', keyword: 'pattern' })]);
      expect(ok(await validate(s.id, { name: 'a'.repeat(50_000) })).validateConfig.valid).toBe(true);
      const health = await fetch(server.url.replace('/graphql', '/healthz'));
      expect(health.status).toBe(200);
    });
  });

  describe('binding a schema to a profile', () => {
    async function versionCount(name: string): Promise<number> {
      return (await readProfile(a, name))?.versions.totalCount ?? -1;
    }

    it('createProfile with an unknown schemaId is NOT_FOUND and creates no profile', async () => {
      const res = await a.gql(CREATE_PROFILE, { input: { name: 'bind-unknown', service: 'orders', environment: 'STAGING', schemaId: UNKNOWN_ID } }, dev);
      expectRefused(res, 'NOT_FOUND');
      expect(await readProfile(a, 'bind-unknown')).toBeNull();
    });

    it('a PRODUCTION profile refuses a DRAFT or PENDING_APPROVAL schema (BAD_USER_INPUT) and is not created', async () => {
      const draft = await register('bind-prod-draft', { type: 'object' });
      const res = await a.gql(CREATE_PROFILE, { input: { name: 'bind-prod-draft', service: 'orders', environment: 'PRODUCTION', schemaId: draft.id } }, dev);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/DRAFT: a PRODUCTION profile takes only an APPROVED schema/);
      expect(res.errors?.[0]?.extensions?.field).toBe('schemaId');
      expect(await readProfile(a, 'bind-prod-draft')).toBeNull();

      const pend = await pending('bind-prod-pending');
      expectRefused(
        await a.gql(CREATE_PROFILE, { input: { name: 'bind-prod-pending', service: 'orders', environment: 'PRODUCTION', schemaId: pend.id } }, dev),
        'BAD_USER_INPUT',
      );
      expect(await readProfile(a, 'bind-prod-pending')).toBeNull();
    });

    it('a STAGING profile may be bound to a DRAFT schema; ConfigProfile.schema returns it', async () => {
      const draft = await register('bind-staging-draft', { type: 'object' });
      const created = ok(
        await a.gql<{ createProfile: { schema: { id: string; status: string } | null } }>(
          CREATE_PROFILE,
          { input: { name: 'bind-staging-draft', service: 'orders', environment: 'STAGING', schemaId: draft.id } },
          dev,
        ),
      ).createProfile;
      expect(created.schema).toMatchObject({ id: draft.id, status: 'DRAFT' });
      const read = ok(await a.gql<{ profile: { schema: SchemaShape | null } }>(PROFILE_SCHEMA, { n: 'bind-staging-draft' })).profile;
      expect(read.schema).toEqual(draft);
    });

    it('a PRODUCTION profile without a schema refuses publishVersion (VALIDATION_FAILED) and writes nothing', async () => {
      ok(await a.gql(CREATE_PROFILE, { input: { name: 'bind-prod-none', service: 'orders', environment: 'PRODUCTION' } }, dev));
      const res = await a.gql(PUBLISH, { p: 'bind-prod-none', input: { data: { a: 1 } } }, dev);
      expectRefused(res, 'VALIDATION_FAILED');
      expect(res.errors?.[0]?.message).toMatch(/has no schema/);
      expect(await versionCount('bind-prod-none')).toBe(0);
    });

    it('publishVersion against a bound schema: an invalid config is VALIDATION_FAILED with every error, nothing written; a valid one publishes', async () => {
      const schemaId = await approvedSchema(a, SERVER_SCHEMA, 'bind-publish');
      await createProfile(a, 'bind-publish', { environment: Environment.PRODUCTION, schemaId });
      await publish(a, 'bind-publish', { server: { port: 80, host: 'a' }, mode: 'a' });
      expect(await versionCount('bind-publish')).toBe(1);

      const res = await a.gql(PUBLISH, { p: 'bind-publish', input: { data: { server: { host: 5 }, mode: 'c', replicas: 'x' } } }, dev);
      expectRefused(res, 'VALIDATION_FAILED');
      expect(res.errors?.[0]?.message).toMatch(/does not match schema bind-publish v1: 4 errors/);
      const errors = res.errors?.[0]?.extensions?.errors as Issue[];
      expect(errors).toHaveLength(4);
      for (const e of errors) expect(Object.keys(e).sort()).toEqual(['keyword', 'message', 'path']);
      expect(errors.map((e) => `${e.path} ${e.keyword}`).sort()).toEqual(['/mode enum', '/replicas type', '/server/host type', '/server/port required']);
      expect(await versionCount('bind-publish')).toBe(1);
      expect((await readProfile(a, 'bind-publish'))?.latestVersion?.version).toBe(1);

      const published = ok(await a.gql<{ publishVersion: { version: number } }>(PUBLISH, { p: 'bind-publish', input: { data: { server: { port: 81, host: 'b' }, mode: 'b' } } }, dev));
      expect(published.publishVersion.version).toBe(2);
      expect(await versionCount('bind-publish')).toBe(2);
    });

    it('updateProfile binds a schema and unbinds it with null', async () => {
      await createProfile(a, 'bind-update');
      const strict = await register('bind-update', { type: 'object', required: ['must'] });
      const bound = ok(await a.gql<{ updateProfile: { schema: { id: string } | null } }>(UPDATE_PROFILE, { n: 'bind-update', input: { schemaId: strict.id } }, dev));
      expect(bound.updateProfile.schema?.id).toBe(strict.id);
      expect(ok(await a.gql<{ profile: { schema: SchemaShape | null } }>(PROFILE_SCHEMA, { n: 'bind-update' })).profile.schema).toEqual(strict);
      expectRefused(await a.gql(PUBLISH, { p: 'bind-update', input: { data: { other: 1 } } }, dev), 'VALIDATION_FAILED');
      expect(await versionCount('bind-update')).toBe(0);

      const unbound = ok(await a.gql<{ updateProfile: { schema: unknown } }>(UPDATE_PROFILE, { n: 'bind-update', input: { schemaId: null } }, dev));
      expect(unbound.updateProfile.schema).toBeNull();
      expect(ok(await a.gql<{ profile: { schema: SchemaShape | null } }>(PROFILE_SCHEMA, { n: 'bind-update' })).profile.schema).toBeNull();
      await publish(a, 'bind-update', { other: 1 });
      expect(await versionCount('bind-update')).toBe(1);
    });

    // An empty ID is not a schema id: it must be refused as the caller's input, never reach PostgreSQL's uuid column.
    it('createProfile with an empty schemaId is refused as input (BAD_USER_INPUT or NOT_FOUND), not a server error', async () => {
      const res = await a.gql(CREATE_PROFILE, { input: { name: 'bind-empty-id', service: 'orders', environment: 'STAGING', schemaId: '' } }, dev);
      expect(res.errors?.[0]?.extensions?.code).toMatch(/^(BAD_USER_INPUT|NOT_FOUND)$/);
      expect(await readProfile(a, 'bind-empty-id')).toBeNull();
    });

    it('updateProfile with an empty schemaId is refused as input (BAD_USER_INPUT or NOT_FOUND), keeping the binding', async () => {
      const schema = await register('bind-empty-id-upd', { type: 'object' });
      await createProfile(a, 'bind-empty-id-upd', { schemaId: schema.id });
      const res = await a.gql(UPDATE_PROFILE, { n: 'bind-empty-id-upd', input: { schemaId: '' } }, dev);
      expect(res.errors?.[0]?.extensions?.code).toMatch(/^(BAD_USER_INPUT|NOT_FOUND)$/);
      expect(ok(await a.gql<{ profile: { schema: SchemaShape | null } }>(PROFILE_SCHEMA, { n: 'bind-empty-id-upd' })).profile.schema?.id).toBe(schema.id);
    });

    it('updateProfile refuses an unknown schema (NOT_FOUND) and a DRAFT on PRODUCTION (BAD_USER_INPUT), keeping the binding', async () => {
      const approvedId = await approvedSchema(a, { type: 'object' }, 'bind-update-prod');
      await createProfile(a, 'bind-update-prod', { environment: Environment.PRODUCTION, schemaId: approvedId });
      expectRefused(await a.gql(UPDATE_PROFILE, { n: 'bind-update-prod', input: { schemaId: UNKNOWN_ID } }, dev), 'NOT_FOUND');
      const draft = await register('bind-update-prod', { type: 'object', required: ['x'] });
      expectRefused(await a.gql(UPDATE_PROFILE, { n: 'bind-update-prod', input: { schemaId: draft.id } }, dev), 'BAD_USER_INPUT');
      const read = ok(await a.gql<{ profile: { schema: SchemaShape | null } }>(PROFILE_SCHEMA, { n: 'bind-update-prod' })).profile;
      expect(read.schema?.id).toBe(approvedId);
    });
  });

  describe('compatibility report', () => {
    it('lists breaking changes against the previous APPROVED version and the bound profiles\' configs it would break', async () => {
      const v1Schema = {
        type: 'object',
        properties: { port: { type: 'integer', maximum: 65535 }, mode: { enum: ['a', 'b'] } },
        additionalProperties: false,
      };
      const v1 = await approve((await pending('compat', v1Schema)).id);
      expect(v1.compatibility).toMatchObject({ previousApprovedVersion: null, compatible: true });
      await createProfile(a, 'compat-staging', { environment: Environment.STAGING, schemaId: v1.id });
      await publish(a, 'compat-staging', { port: 8080, mode: 'b' });

      const v2Schema = {
        type: 'object',
        required: ['port'],
        properties: { port: { type: 'integer', maximum: 1024 }, mode: { enum: ['a'] } },
        additionalProperties: false,
      };
      const v2 = await register('compat', v2Schema);
      expect(v2.schemaVersion).toBe(2);
      expect(v2.compatibility).toBeNull();
      const submitted = await submit(v2.id);
      const report = submitted.compatibility!;
      expect(report.previousApprovedVersion).toBe(1);
      expect(report.compatible).toBe(false);
      expect(report.breakingChanges.map((c) => `${c.kind} ${c.path}`).sort()).toEqual(
        ['BOUND_TIGHTENED /port', 'ENUM_VALUE_REMOVED /mode', 'REQUIRED_ADDED /port'].sort(),
      );
      expect(report.breakingChanges.find((c) => c.kind === 'BOUND_TIGHTENED')?.message).toMatch(/maximum lowered from 65535 to 1024/);
      expect(report.breakingChanges.find((c) => c.kind === 'ENUM_VALUE_REMOVED')?.message).toMatch(/"b"/);
      expect(report.profiles).toHaveLength(1);
      const latest = report.profiles[0]!;
      expect(latest).toMatchObject({ profileName: 'compat-staging', which: 'latest', version: 1, valid: false });
      expect(latest.errors.map((e) => `${e.path} ${e.keyword}`).sort()).toEqual(['/mode enum', '/port maximum']);
      expect(new Date(report.computedAt).getTime()).not.toBeNaN();
      // The report is stored: the approving admin reads it back.
      expect((await read(v2.id))?.compatibility).toEqual(report);
    });

    it('a loosening change is compatible, and the bound config still validates', async () => {
      const v1 = await approve((await pending('compat-loose', { type: 'object', properties: { n: { type: 'integer', maximum: 10 } } })).id);
      await createProfile(a, 'compat-loose', { schemaId: v1.id });
      await publish(a, 'compat-loose', { n: 5 });
      const v2 = await pending('compat-loose', { type: 'object', properties: { n: { type: 'number', maximum: 100 }, extra: { type: 'string' } } });
      expect(v2.compatibility).toMatchObject({
        previousApprovedVersion: 1,
        breakingChanges: [],
        profiles: [{ profileName: 'compat-loose', which: 'latest', version: 1, valid: true, errors: [] }],
        compatible: true,
      });
    });
  });
});
