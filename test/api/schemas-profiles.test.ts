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
import { type Issue, SCHEMA_FIELDS, type SchemaShape, schemaCalls, UNKNOWN_ID } from '../support/schemas.js';
import { startTestServer, type TestServer } from '../support/server.js';

const CREATE_PROFILE = `mutation($input: CreateProfileInput!) { createProfile(input: $input) { ${PROFILE_FIELDS} schema { id name schemaVersion status } } }`;
const UPDATE_PROFILE = `mutation($n: String!, $input: UpdateProfileInput!) { updateProfile(name: $n, input: $input) { name schema { id schemaVersion status } } }`;
const PROFILE_SCHEMA = `query($n: String!) { profile(name: $n) { name schema { ${SCHEMA_FIELDS} } versions { totalCount } } }`;
const PUBLISH = `mutation($p: String!, $input: PublishVersionInput!) { publishVersion(profileName: $p, input: $input) { version data } }`;

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

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
    dev = await a.token(Role.DEVELOPER, 'dev-alice');
    admin = await a.token(Role.ADMIN, 'admin-bob');
    operator = await a.token(Role.OPERATOR, 'op-carol');
  });
  afterAll(async () => {
    await server?.stop();
  });

  const { register, submit, approve, read, pending, validate } = schemaCalls(() => ({ a, server, dev, admin }));

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
