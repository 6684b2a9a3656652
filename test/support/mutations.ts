import pg from 'pg';
import { expect } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { type Api, approvedSchema, createProfile, ok, publish } from './api.js';
import { registerInstance } from './fleet.js';
import type { GqlResponse, TestServer } from './server.js';
import { connectWs } from './ws-client.js';

/**
 * Every GraphQL operation of schema.graphql, as tables the security tests walk:
 * the document (every argument a variable), the variables' types (for fuzzing),
 * a valid input on a set of fixtures, and who may run it.
 */

// ---------------------------------------------------------------- variable types

export type ScalarName = 'String' | 'ID' | 'Int' | 'Float' | 'Boolean' | 'JSON';
export type Spec =
  | { kind: 'scalar'; name: ScalarName; nonNull: boolean }
  | { kind: 'enum'; values: readonly string[]; nonNull: boolean }
  | { kind: 'input'; name: string; fields: Readonly<Record<string, Spec>>; nonNull: boolean }
  | { kind: 'list'; of: Spec; nonNull: boolean };

const scalar = (name: ScalarName, nonNull = false): Spec => ({ kind: 'scalar', name, nonNull });
const enumOf = (values: readonly string[], nonNull = false): Spec => ({ kind: 'enum', values, nonNull });
const input = (name: string, fields: Record<string, Spec>, nonNull = false): Spec => ({ kind: 'input', name, fields, nonNull });
const listOf = (of: Spec, nonNull = false): Spec => ({ kind: 'list', of, nonNull });
const req = (spec: Spec): Spec => ({ ...spec, nonNull: true });

export const ENVIRONMENTS = ['DEVELOPMENT', 'STAGING', 'PRODUCTION'] as const;
export const STRATEGIES = ['CANARY', 'BLUE_GREEN', 'ROLLING', 'DIRECT'] as const;
export const COLORS = ['BLUE', 'GREEN'] as const;

const S = {
  String: scalar('String'),
  ID: scalar('ID'),
  Int: scalar('Int'),
  Float: scalar('Float'),
  Boolean: scalar('Boolean'),
  JSON: scalar('JSON'),
};

export const INPUT_TYPES = {
  CreateProfileInput: input('CreateProfileInput', {
    name: req(S.String),
    service: req(S.String),
    environment: enumOf(ENVIRONMENTS, true),
    description: S.String,
    schemaId: S.ID,
  }),
  UpdateProfileInput: input('UpdateProfileInput', { description: S.String, schemaId: S.ID }),
  PublishVersionInput: input('PublishVersionInput', { data: req(S.JSON), description: S.String }),
  RegisterSchemaInput: input('RegisterSchemaInput', { name: req(S.String), schema: req(S.JSON), description: S.String }),
  RegisterInstanceInput: input('RegisterInstanceInput', {
    service: req(S.String),
    environment: enumOf(ENVIRONMENTS, true),
    host: req(S.String),
    color: enumOf(COLORS),
    metadata: S.JSON,
  }),
  InstanceMetricsInput: input('InstanceMetricsInput', { errorRate: S.Float, latencyP99Ms: S.Float, requestCount: S.Int, custom: S.JSON }),
  StartDeploymentInput: input('StartDeploymentInput', {
    profileName: req(S.String),
    version: req(S.Int),
    strategy: enumOf(STRATEGIES, true),
    canary: input('CanaryOptions', { phases: listOf(req(S.Float)), bakeSeconds: S.Int }),
    rolling: input('RollingOptions', { batchSize: S.Int, batchPercent: S.Float, intervalSeconds: S.Int }),
    blueGreen: input('BlueGreenOptions', { verifySeconds: S.Int }),
    direct: input('DirectOptions', { maxConcurrency: S.Int }),
    health: input('HealthPolicyInput', {
      maxErrorRateIncrease: S.Float,
      maxLatencyIncreasePct: S.Float,
      customThresholds: S.JSON,
      autoRollback: S.Boolean,
    }),
    ackTimeoutSeconds: S.Int,
  }),
} as const;

// ---------------------------------------------------------------- fixtures

/** What the valid inputs refer to: made fresh (as ADMIN) for each test that may change them. */
export interface Fixtures {
  tag: string;
  service: string;
  /**
   * STAGING profile of `service` with versions 1 and 2, no deployment; version 1
   * is active (set in the database) and was sent to the instance when it
   * subscribed, so the instance may ack it.
   */
  profile: string;
  /** STAGING profile of `service` with versions 1 and 2 and a deployment of version 1 (PENDING: the server runs no workers). */
  deployedProfile: string;
  deploymentId: string;
  /** A DRAFT schema, a PENDING_APPROVAL one and an APPROVED one. */
  draftSchemaId: string;
  pendingSchemaId: string;
  approvedSchemaId: string;
  /** A registered instance of `service` and its own INSTANCE token. */
  instanceId: string;
  instanceToken: string;
  /** Another registered instance of `service`. */
  otherInstanceId: string;
  otherInstanceToken: string;
  /** An INSTANCE token without instanceId, for `service` in STAGING. */
  registrationToken: string;
}

let fixtureCounter = 0;

/** Fresh fixtures on `a`'s server (run it with HOTSWAP_WORKERS=false so nothing changes them behind the test's back). */
export async function makeFixtures(a: Api, label: string): Promise<Fixtures> {
  const tag = `${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 30)}-${++fixtureCounter}`;
  const service = `svc-${tag}`;
  const profile = `p-${tag}`;
  const deployedProfile = `d-${tag}`;
  for (const name of [profile, deployedProfile]) {
    await createProfile(a, name, { service, environment: Environment.STAGING });
    await publish(a, name, { level: 1 });
    await publish(a, name, { level: 2 });
  }
  const registerSchemaDoc = 'mutation($n: String!, $s: JSON!) { registerSchema(input: { name: $n, schema: $s }) { id } }';
  const schema = async (name: string) =>
    ok(await a.gql<{ registerSchema: { id: string } }>(registerSchemaDoc, { n: name, s: { type: 'object' } })).registerSchema.id;
  const draftSchemaId = await schema(`draft-${tag}`);
  const pendingSchemaId = await schema(`pending-${tag}`);
  ok(await a.gql('mutation($id: ID!) { submitSchemaForApproval(id: $id) { status } }', { id: pendingSchemaId }));
  const approvedSchemaId = await approvedSchema(a, { type: 'object' }, `approved-${tag}`);
  const inst = await registerInstance(a, service, Environment.STAGING, 'fixture-host');
  const other = await registerInstance(a, service, Environment.STAGING, 'fixture-other');
  // Version 1 active without a deployment (the server runs no workers), then sent to the instance on subscribe.
  await a.server.db.query('update config_profile set active_version = 1 where name = $1', [profile]);
  // Both stay subscribed, as running instances are: deployments target the connected instances.
  // Their sockets close with the server at the end of the file.
  for (const i of [inst, other]) {
    const first = await connectWs(a.server.url, i.token)
      .subscribe<{ configUpdates: { version: number } }>('subscription($id: ID!) { configUpdates(instanceId: $id) { version } }', { id: i.id })
      .next();
    expect(first.data?.configUpdates.version, JSON.stringify(first)).toBe(1);
  }
  const deploymentId = ok(
    await a.gql<{ startDeployment: { id: string } }>(
      'mutation($p: String!) { startDeployment(input: { profileName: $p, version: 1, strategy: DIRECT, ackTimeoutSeconds: 5 }) { id } }',
      { p: deployedProfile },
    ),
  ).startDeployment.id;
  const registrationToken = await a.server.token(Role.INSTANCE, { sub: `registrar-${tag}`, service, environment: Environment.STAGING });
  return {
    tag,
    service,
    profile,
    deployedProfile,
    deploymentId,
    draftSchemaId,
    pendingSchemaId,
    approvedSchemaId,
    instanceId: inst.id,
    instanceToken: inst.token,
    otherInstanceId: other.id,
    otherInstanceToken: other.token,
    registrationToken,
  };
}

// ---------------------------------------------------------------- operations

/** Who calls: a human role, an instance with its own token, or a registration token. */
export type Caller = 'ADMIN' | 'OPERATOR' | 'DEVELOPER' | 'INSTANCE' | 'REGISTRATION';
export const CALLERS: readonly Caller[] = ['ADMIN', 'OPERATOR', 'DEVELOPER', 'INSTANCE', 'REGISTRATION'];

export interface Operation {
  name: string;
  kind: 'query' | 'mutation' | 'subscription';
  /** The document: one root field, every argument a variable. */
  document: string;
  variables: Readonly<Record<string, Spec>>;
  /** A valid input on `f`. */
  valid(f: Fixtures): Record<string, unknown>;
  /** Callers allowed to run it on the fixtures (everyone else is FORBIDDEN). */
  allowed: readonly Caller[];
}

/** The token of `caller` for fixtures `f`. */
export async function tokenOf(server: TestServer, caller: Caller, f: Fixtures): Promise<string> {
  switch (caller) {
    case 'INSTANCE':
      return f.instanceToken;
    case 'REGISTRATION':
      return f.registrationToken;
    default:
      return server.token(caller as Role, { sub: `sec-${caller.toLowerCase()}` });
  }
}

const HUMANS: readonly Caller[] = ['ADMIN', 'OPERATOR', 'DEVELOPER'];

export const MUTATIONS: readonly Operation[] = [
  {
    name: 'createProfile',
    kind: 'mutation',
    document: 'mutation($input: CreateProfileInput!) { createProfile(input: $input) { id name service environment description } }',
    variables: { input: req(INPUT_TYPES.CreateProfileInput) },
    valid: (f) => ({ input: { name: `n-${f.tag}`, service: f.service, environment: 'STAGING', description: 'a profile', schemaId: null } }),
    allowed: ['ADMIN', 'DEVELOPER'],
  },
  {
    name: 'updateProfile',
    kind: 'mutation',
    document: 'mutation($name: String!, $input: UpdateProfileInput!) { updateProfile(name: $name, input: $input) { id name description } }',
    variables: { name: req(S.String), input: req(INPUT_TYPES.UpdateProfileInput) },
    valid: (f) => ({ name: f.profile, input: { description: 'updated', schemaId: f.approvedSchemaId } }),
    allowed: ['ADMIN', 'DEVELOPER'],
  },
  {
    name: 'deleteProfile',
    kind: 'mutation',
    document: 'mutation($name: String!) { deleteProfile(name: $name) }',
    variables: { name: req(S.String) },
    valid: (f) => ({ name: f.profile }),
    allowed: ['ADMIN'],
  },
  {
    name: 'publishVersion',
    kind: 'mutation',
    document: 'mutation($profileName: String!, $input: PublishVersionInput!) { publishVersion(profileName: $profileName, input: $input) { id version hash } }',
    variables: { profileName: req(S.String), input: req(INPUT_TYPES.PublishVersionInput) },
    valid: (f) => ({ profileName: f.profile, input: { data: { level: 3, flags: { a: true } }, description: 'v3' } }),
    allowed: ['ADMIN', 'DEVELOPER'],
  },
  {
    name: 'deleteVersion',
    kind: 'mutation',
    document: 'mutation($profileName: String!, $version: Int!) { deleteVersion(profileName: $profileName, version: $version) }',
    variables: { profileName: req(S.String), version: req(S.Int) },
    valid: (f) => ({ profileName: f.profile, version: 2 }),
    allowed: ['ADMIN'],
  },
  {
    name: 'registerSchema',
    kind: 'mutation',
    document: 'mutation($input: RegisterSchemaInput!) { registerSchema(input: $input) { id name schemaVersion status } }',
    variables: { input: req(INPUT_TYPES.RegisterSchemaInput) },
    valid: (f) => ({ input: { name: `s-${f.tag}`, schema: { type: 'object', properties: { level: { type: 'integer' } } }, description: 'a schema' } }),
    allowed: ['ADMIN', 'DEVELOPER'],
  },
  {
    name: 'submitSchemaForApproval',
    kind: 'mutation',
    document: 'mutation($id: ID!) { submitSchemaForApproval(id: $id) { id status } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.draftSchemaId }),
    allowed: ['ADMIN', 'DEVELOPER'],
  },
  {
    name: 'approveSchema',
    kind: 'mutation',
    document: 'mutation($id: ID!, $comment: String) { approveSchema(id: $id, comment: $comment) { id status } }',
    variables: { id: req(S.ID), comment: S.String },
    valid: (f) => ({ id: f.pendingSchemaId, comment: 'looks right' }),
    allowed: ['ADMIN'],
  },
  {
    name: 'rejectSchema',
    kind: 'mutation',
    document: 'mutation($id: ID!, $reason: String!) { rejectSchema(id: $id, reason: $reason) { id status } }',
    variables: { id: req(S.ID), reason: req(S.String) },
    valid: (f) => ({ id: f.pendingSchemaId, reason: 'too loose' }),
    allowed: ['ADMIN'],
  },
  {
    name: 'startDeployment',
    kind: 'mutation',
    document: 'mutation($input: StartDeploymentInput!) { startDeployment(input: $input) { id status strategy } }',
    variables: { input: req(INPUT_TYPES.StartDeploymentInput) },
    valid: (f) => ({
      input: {
        profileName: f.profile,
        version: 2,
        strategy: 'CANARY',
        canary: { phases: [0.5, 1], bakeSeconds: 1 },
        health: { maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: { queueDepth: 10 }, autoRollback: true },
        ackTimeoutSeconds: 5,
      },
    }),
    allowed: ['ADMIN', 'OPERATOR', 'DEVELOPER'],
  },
  {
    name: 'pauseDeployment',
    kind: 'mutation',
    document: 'mutation($id: ID!) { pauseDeployment(id: $id) { id status } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.deploymentId }),
    allowed: ['ADMIN', 'OPERATOR'],
  },
  {
    name: 'resumeDeployment',
    kind: 'mutation',
    document: 'mutation($id: ID!) { resumeDeployment(id: $id) { id status } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.deploymentId }),
    allowed: ['ADMIN', 'OPERATOR'],
  },
  {
    name: 'rollbackDeployment',
    kind: 'mutation',
    document: 'mutation($id: ID!, $reason: String!) { rollbackDeployment(id: $id, reason: $reason) { id status } }',
    variables: { id: req(S.ID), reason: req(S.String) },
    valid: (f) => ({ id: f.deploymentId, reason: 'error rate up' }),
    allowed: ['ADMIN', 'OPERATOR'],
  },
  {
    name: 'registerInstance',
    kind: 'mutation',
    document: 'mutation($input: RegisterInstanceInput!) { registerInstance(input: $input) { token instance { id service environment host color metadata } } }',
    variables: { input: req(INPUT_TYPES.RegisterInstanceInput) },
    valid: (f) => ({ input: { service: f.service, environment: 'STAGING', host: 'host-1.internal', color: 'BLUE', metadata: { zone: 'a' } } }),
    allowed: ['ADMIN', 'REGISTRATION'],
  },
  {
    name: 'refreshInstanceToken',
    kind: 'mutation',
    document: 'mutation($instanceId: ID!) { refreshInstanceToken(instanceId: $instanceId) }',
    variables: { instanceId: req(S.ID) },
    valid: (f) => ({ instanceId: f.instanceId }),
    allowed: ['ADMIN', 'INSTANCE'],
  },
  {
    name: 'heartbeat',
    kind: 'mutation',
    document: 'mutation($instanceId: ID!, $metrics: InstanceMetricsInput) { heartbeat(instanceId: $instanceId, metrics: $metrics) { id status lastHeartbeatAt } }',
    variables: { instanceId: req(S.ID), metrics: INPUT_TYPES.InstanceMetricsInput },
    valid: (f) => ({ instanceId: f.instanceId, metrics: { errorRate: 0.01, latencyP99Ms: 120.5, requestCount: 1000, custom: { queueDepth: 3 } } }),
    allowed: ['ADMIN', 'INSTANCE'],
  },
  {
    name: 'reportConfigApplied',
    kind: 'mutation',
    document: `mutation($instanceId: ID!, $profileName: String!, $version: Int!, $success: Boolean!, $reloadMs: Float, $error: String, $traceparent: String) {
      reportConfigApplied(instanceId: $instanceId, profileName: $profileName, version: $version, success: $success, reloadMs: $reloadMs, error: $error, traceparent: $traceparent)
    }`,
    variables: {
      instanceId: req(S.ID),
      profileName: req(S.String),
      version: req(S.Int),
      success: req(S.Boolean),
      reloadMs: S.Float,
      error: S.String,
      traceparent: S.String,
    },
    valid: (f) => ({
      instanceId: f.instanceId,
      profileName: f.profile,
      version: 1,
      success: true,
      reloadMs: 12.5,
      error: null,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    }),
    allowed: ['ADMIN', 'INSTANCE'],
  },
  {
    name: 'deregisterInstance',
    kind: 'mutation',
    document: 'mutation($id: ID!) { deregisterInstance(id: $id) }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.instanceId }),
    allowed: ['ADMIN', 'OPERATOR', 'INSTANCE'],
  },
];

export const QUERIES: readonly Operation[] = [
  {
    name: 'activeColor',
    kind: 'query',
    document: 'query($service: String!, $environment: Environment!) { activeColor(service: $service, environment: $environment) }',
    variables: { service: req(S.String), environment: enumOf(ENVIRONMENTS, true) },
    valid: (f) => ({ service: f.service, environment: 'STAGING' }),
    allowed: HUMANS,
  },
  {
    name: 'deployment',
    kind: 'query',
    document: 'query($id: ID!) { deployment(id: $id) { id status } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.deploymentId }),
    allowed: HUMANS,
  },
  {
    name: 'deployments',
    kind: 'query',
    document: 'query($first: Int, $profileName: String) { deployments(first: $first, profileName: $profileName) { totalCount } }',
    variables: { first: S.Int, profileName: S.String },
    valid: (f) => ({ first: 5, profileName: f.deployedProfile }),
    allowed: HUMANS,
  },
  {
    name: 'instances',
    kind: 'query',
    document: 'query($service: String) { instances(service: $service) { id } }',
    variables: { service: S.String },
    valid: (f) => ({ service: f.service }),
    allowed: HUMANS,
  },
  {
    name: 'instance',
    kind: 'query',
    document: 'query($id: ID!) { instance(id: $id) { id } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.instanceId }),
    allowed: [...HUMANS, 'INSTANCE'],
  },
  {
    name: 'profiles',
    kind: 'query',
    document: 'query($service: String) { profiles(first: 5, service: $service) { totalCount } }',
    variables: { service: S.String },
    valid: (f) => ({ service: f.service }),
    allowed: HUMANS,
  },
  {
    name: 'profile',
    kind: 'query',
    document: 'query($name: String!) { profile(name: $name) { name } }',
    variables: { name: req(S.String) },
    valid: (f) => ({ name: f.profile }),
    allowed: HUMANS,
  },
  {
    name: 'schemas',
    kind: 'query',
    document: 'query($status: SchemaStatus) { schemas(status: $status) { id } }',
    variables: { status: enumOf(['DRAFT', 'PENDING_APPROVAL', 'APPROVED', 'REJECTED']) },
    valid: () => ({ status: 'APPROVED' }),
    allowed: HUMANS,
  },
  {
    name: 'schema',
    kind: 'query',
    document: 'query($id: ID!) { schema(id: $id) { id } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.approvedSchemaId }),
    allowed: HUMANS,
  },
  {
    name: 'validateConfig',
    kind: 'query',
    document: 'query($data: JSON!, $schemaId: ID!) { validateConfig(data: $data, schemaId: $schemaId) { valid } }',
    variables: { data: req(S.JSON), schemaId: req(S.ID) },
    valid: (f) => ({ data: { a: 1 }, schemaId: f.approvedSchemaId }),
    allowed: HUMANS,
  },
  {
    name: 'version',
    kind: 'query',
    document: 'query($profileName: String!, $version: Int!) { version(profileName: $profileName, version: $version) { version } }',
    variables: { profileName: req(S.String), version: req(S.Int) },
    valid: (f) => ({ profileName: f.profile, version: 1 }),
    allowed: HUMANS,
  },
  {
    name: 'versionDiff',
    kind: 'query',
    document: 'query($profileName: String!, $from: Int!, $to: Int!) { versionDiff(profileName: $profileName, from: $from, to: $to) { changes { op path } } }',
    variables: { profileName: req(S.String), from: req(S.Int), to: req(S.Int) },
    valid: (f) => ({ profileName: f.profile, from: 1, to: 2 }),
    allowed: HUMANS,
  },
];

export const SUBSCRIPTIONS: readonly Operation[] = [
  {
    name: 'configUpdates',
    kind: 'subscription',
    document: 'subscription($instanceId: ID!) { configUpdates(instanceId: $instanceId) { profileName version hash } }',
    variables: { instanceId: req(S.ID) },
    valid: (f) => ({ instanceId: f.instanceId }),
    allowed: ['ADMIN', 'INSTANCE'],
  },
  {
    name: 'deploymentEvents',
    kind: 'subscription',
    document: 'subscription($id: ID!) { deploymentEvents(id: $id) { type status } }',
    variables: { id: req(S.ID) },
    valid: (f) => ({ id: f.deploymentId }),
    allowed: HUMANS,
  },
];

/** Root field names of a type in schema.graphql's SDL (to check the tables cover every operation). */
export function rootFieldsOf(sdl: string, type: 'Query' | 'Mutation' | 'Subscription'): string[] {
  const body = new RegExp(`type ${type} \\{([\\s\\S]*?)\\n\\}`).exec(sdl)?.[1] ?? '';
  const withoutDocs = body.replace(/"""[\s\S]*?"""/g, '');
  return [...withoutDocs.matchAll(/^ {2}(\w+)\s*[(:]/gm)].map((m) => m[1]!);
}

// ---------------------------------------------------------------- responses

/** What a body must never show: a stack frame, a source file, a dependency path. */
export const LEAKS = ['    at ', '.ts:', '.js:', 'node_modules', 'stacktrace', '/work/', 'file://'];

/** Codes a refusal may carry when the database and everything else are up. */
export const ALLOWED_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'VALIDATION_FAILED', 'NOT_FOUND', 'CONFLICT']);

export interface RawResponse {
  status: number;
  text: string;
  body: GqlResponse | null;
}

/** POSTs `body` (already JSON text, or anything) to /graphql with `token`; never throws on a bad answer. */
export async function postRaw(url: string, body: string, token: string | null, headers: Record<string, string> = {}): Promise<RawResponse> {
  const h: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers: h, body });
  const text = await res.text();
  let parsed: GqlResponse | null;
  try {
    parsed = JSON.parse(text) as GqlResponse;
  } catch {
    parsed = null;
  }
  return { status: res.status, text, body: parsed };
}

/**
 * Checks a response to hostile input: not a server error, JSON, no leak (unless
 * the request itself carried that text, which an error may echo), and every
 * error carries an allowed `extensions.code`.
 */
export function expectSafeResponse(res: RawResponse, requestText: string, allowed: ReadonlySet<string> = ALLOWED_CODES): void {
  const context = `HTTP ${res.status}: ${res.text.slice(0, 600)}`;
  expect(res.status, context).toBeLessThan(500);
  expect(res.body, `expected a JSON body; ${context}`).not.toBeNull();
  expect(typeof res.body, context).toBe('object');
  for (const leak of LEAKS) {
    if (!requestText.includes(leak)) expect(res.text.includes(leak), `the response leaks "${leak}": ${context}`).toBe(false);
  }
  expect(res.text, context).not.toContain('INTERNAL_SERVER_ERROR');
  const errors = res.body?.errors;
  if (errors === undefined) return;
  expect(Array.isArray(errors), context).toBe(true);
  expect(errors.length, context).toBeGreaterThan(0);
  for (const error of errors) {
    expect(typeof error.message, context).toBe('string');
    const code = error.extensions?.code;
    expect(typeof code === 'string' && allowed.has(code), `unexpected code ${String(code)}; ${context}`).toBe(true);
  }
}

/** True when the operation `field` was refused: errors and no value for the field. */
export function wasRefused(res: RawResponse, field: string): boolean {
  const value = (res.body?.data as Record<string, unknown> | null | undefined)?.[field];
  return res.body?.errors !== undefined && (value === undefined || value === null);
}

// ---------------------------------------------------------------- state snapshots

/** Tables the app writes (the migration bookkeeping excluded). */
const SNAPSHOT_QUERY = `
  select table_name from information_schema.tables
  where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'hotswap_migrations'
  order by table_name`;

const INSTANCES = `{ instances { id service environment host color metadata lastHeartbeatAt
  metrics { errorRate latencyP99Ms requestCount custom } } }`;

/**
 * Everything the server has written: a digest of each database table, and the
 * instance registry (in memory without Redis) read over the API as ADMIN.
 */
export class StateProbe {
  private constructor(
    private readonly client: pg.Client,
    private readonly sql: string,
    private readonly server: TestServer,
  ) {}

  static async open(server: TestServer): Promise<StateProbe> {
    const client = new pg.Client({ connectionString: server.db.url });
    await client.connect();
    const tables = (await client.query<{ table_name: string }>(SNAPSHOT_QUERY)).rows.map((r) => r.table_name);
    expect(tables).toEqual(expect.arrayContaining(['config_profile', 'config_version', 'config_schema', 'deployment', 'deployment_event', 'deployment_target', 'instance_config']));
    const sql = `select ${tables
      .map((t) => `(select count(*) || ':' || md5(coalesce(string_agg(x::text, E'\\n' order by x::text), '')) from "${t}" x) as "${t}"`)
      .join(', ')}`;
    return new StateProbe(client, sql, server);
  }

  async snapshot(): Promise<Record<string, unknown>> {
    const tables = (await this.client.query<Record<string, string>>(this.sql)).rows[0] ?? {};
    const instances = await this.server.gql<{ instances: Array<{ id: string }> }>(INSTANCES);
    expect(instances.errors, JSON.stringify(instances.errors)).toBeUndefined();
    const sorted = [...(instances.data?.instances ?? [])].sort((x, y) => x.id.localeCompare(y.id));
    return { ...tables, instances: sorted };
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
