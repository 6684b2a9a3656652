import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { Environment, Role } from '../../src/domain/enums.js';
import { type GqlResponse, TEST_SECRET, type TestServer } from './server.js';

/** A secret that is not the server's: tokens signed with it must be refused. */
export const FOREIGN_SECRET = 'another-secret-that-is-not-the-servers-0123456789';

/** What an error leaking internals looks like: a stack frame, a source file, a node_modules path. */
const LEAK_PATTERNS: RegExp[] = [
  /stacktrace/i,
  /\bat\s+\S+\s+\(/, // "at fn (file:line)"
  /\bat\s+(?:file:\/\/|\/)/, // "at /path/file.js:1:2"
  /file:\/\//,
  /node_modules/,
  /(?:\/[\w@.+-]+){2,}\.(?:ts|js|mjs|cjs)\b/, // /abs/path/file.ts
  /\/work\//,
  /\bsrc\/[\w/.-]+\.(?:ts|js)\b/,
];

/**
 * Checks every error of a response: it has a string `extensions.code` and shows
 * no stack trace and no file path. Called on every response the API tests get.
 */
export function assertSafeErrors(body: { errors?: unknown } | null | undefined): void {
  const errors = body?.errors;
  if (errors === undefined || errors === null) return;
  expect(Array.isArray(errors), 'errors must be an array').toBe(true);
  const text = JSON.stringify(errors);
  for (const pattern of LEAK_PATTERNS) {
    expect(text, `an error response leaks internals (${String(pattern)})`).not.toMatch(pattern);
  }
  for (const error of errors as Array<{ message?: unknown; extensions?: { code?: unknown } }>) {
    expect(typeof error.message).toBe('string');
    expect(typeof error.extensions?.code, `error without extensions.code: ${JSON.stringify(error)}`).toBe('string');
  }
}

/** A GraphQL caller over real HTTP that checks every error response for leaks. */
export interface Api {
  server: TestServer;
  /** Like server.gql: `token` undefined = admin, null = no Authorization header. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResponse<T>>;
  /** POSTs a raw body to /graphql; returns status and parsed JSON (checked for leaks). */
  raw(body: string, headers?: Record<string, string>): Promise<{ status: number; body: GqlResponse }>;
  token(role: Role, sub?: string): Promise<string>;
  /** An INSTANCE token (it needs service and environment to be valid at all). */
  instanceToken(sub?: string): Promise<string>;
}

export function api(server: TestServer): Api {
  return {
    server,
    async gql<T>(query: string, variables?: Record<string, unknown>, token?: string | null) {
      const res = await server.gql<T>(query, variables, token);
      assertSafeErrors(res);
      return res;
    },
    async raw(body, headers = {}) {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, ...headers },
        body,
      });
      const text = await res.text();
      let parsed: GqlResponse;
      try {
        parsed = JSON.parse(text) as GqlResponse;
      } catch {
        throw new Error(`expected a JSON body, got HTTP ${res.status}: ${text.slice(0, 300)}`);
      }
      assertSafeErrors(parsed);
      return { status: res.status, body: parsed };
    },
    token: (role, sub) => server.token(role, sub === undefined ? {} : { sub }),
    instanceToken: (sub = 'instance-1') =>
      server.token(Role.INSTANCE, { sub, instanceId: sub, service: 'orders', environment: Environment.STAGING }),
  };
}

/** The `extensions.code` of the first error. */
export function codeOf(res: { errors?: Array<{ extensions?: Record<string, unknown> }> }): unknown {
  return res.errors?.[0]?.extensions?.code;
}

/** Asserts the response is exactly one refusal with `code`, and no data was produced for it. */
export function expectRefused(res: GqlResponse<unknown>, code: string): void {
  expect(res.errors, `expected ${code}, got ${JSON.stringify(res)}`).toBeDefined();
  expect(res.errors).toHaveLength(1);
  expect(codeOf(res)).toBe(code);
  const data = res.data as Record<string, unknown> | null | undefined;
  if (data !== null && data !== undefined) {
    for (const value of Object.values(data)) expect(value).toBeNull();
  }
}

/** Asserts success: no errors, and returns `data`. */
export function ok<T>(res: GqlResponse<T>): T {
  expect(res.errors, `unexpected errors: ${JSON.stringify(res.errors)}`).toBeUndefined();
  expect(res.data).toBeTruthy();
  return res.data as T;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

/** An unsigned JWT (`alg: none`), built by hand. */
export function algNoneToken(claims: Record<string, unknown>): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
}

/** A token signed with the server's secret that expired `agoSeconds` ago. */
export function expiredToken(role: Role, sub = 'expired-user', agoSeconds = 3600): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt(now - agoSeconds - 3600)
    .setExpirationTime(now - agoSeconds)
    .sign(new TextEncoder().encode(TEST_SECRET));
}

/** A token with arbitrary claims, signed with the server's secret (HS256). */
export function signedToken(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(TEST_SECRET));
}

/** A well-formed, unexpired token signed with a secret the server does not know. */
export function foreignToken(role: Role, sub = 'intruder'): Promise<string> {
  return mintToken(FOREIGN_SECRET, { sub, role, expiresInSeconds: 3600 });
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A config nested `levels` deep ({a:{a:…{}}}), built without recursion. */
export function deepConfig(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

export const PROFILE_FIELDS = 'id name service environment description createdAt updatedAt';
export const VERSION_FIELDS = 'id profileName version data hash description createdBy createdAt';

export interface ProfileShape {
  id: string;
  name: string;
  service: string;
  environment: string;
  description: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface VersionShape {
  id: string;
  profileName: string;
  version: number;
  data: unknown;
  hash: string;
  description: string | null;
  createdBy: string;
  createdAt: string;
}

/** Creates a profile as ADMIN; fails the test when that does not work. */
export async function createProfile(
  a: Api,
  name: string,
  extra: { service?: string; environment?: Environment; description?: string; schemaId?: string } = {},
): Promise<ProfileShape> {
  const environment = extra.environment ?? Environment.STAGING;
  // A PRODUCTION profile publishes only under an APPROVED schema: give it a permissive one unless told otherwise.
  const schemaId = extra.schemaId ?? (environment === Environment.PRODUCTION ? await approvedSchema(a, { type: 'object' }) : undefined);
  const res = await a.gql<{ createProfile: ProfileShape }>(
    `mutation($input: CreateProfileInput!) { createProfile(input: $input) { ${PROFILE_FIELDS} } }`,
    { input: { name, service: extra.service ?? 'orders', environment, description: extra.description, schemaId } },
  );
  return ok(res).createProfile;
}

/** Registers, submits and approves (as ADMIN) a schema; returns its id. */
export async function approvedSchema(a: Api, schema: Record<string, unknown>, name = 'permissive'): Promise<string> {
  const registered = ok(
    await a.gql<{ registerSchema: { id: string } }>('mutation($n: String!, $s: JSON!) { registerSchema(input: { name: $n, schema: $s }) { id } }', { n: name, s: schema }),
  ).registerSchema.id;
  ok(await a.gql('mutation($id: ID!) { submitSchemaForApproval(id: $id) { status } }', { id: registered }));
  ok(await a.gql('mutation($id: ID!) { approveSchema(id: $id) { status } }', { id: registered }));
  return registered;
}

/** Publishes a version as ADMIN; fails the test when that does not work. */
export async function publish(a: Api, profileName: string, data: unknown, description?: string): Promise<VersionShape> {
  const res = await a.gql<{ publishVersion: VersionShape }>(
    `mutation($p: String!, $input: PublishVersionInput!) { publishVersion(profileName: $p, input: $input) { ${VERSION_FIELDS} } }`,
    { p: profileName, input: { data, description } },
  );
  return ok(res).publishVersion;
}

/** The profile by name (null when absent), read as ADMIN. */
export async function readProfile(a: Api, name: string): Promise<(ProfileShape & { latestVersion: VersionShape | null; versions: { totalCount: number } }) | null> {
  const res = await a.gql<{ profile: (ProfileShape & { latestVersion: VersionShape | null; versions: { totalCount: number } }) | null }>(
    `query($n: String!) { profile(name: $n) { ${PROFILE_FIELDS} latestVersion { ${VERSION_FIELDS} } versions { totalCount } } }`,
    { n: name },
  );
  return ok(res).profile;
}

/** A version by number (null when absent), read as ADMIN. */
export async function readVersion(a: Api, profileName: string, version: number): Promise<VersionShape | null> {
  const res = await a.gql<{ version: VersionShape | null }>(
    `query($p: String!, $v: Int!) { version(profileName: $p, version: $v) { ${VERSION_FIELDS} } }`,
    { p: profileName, v: version },
  );
  return ok(res).version;
}

/** Every profile name in the store, newest first (read as ADMIN, one page of 100). */
export async function allProfileNames(a: Api): Promise<string[]> {
  const res = await a.gql<{ profiles: { edges: Array<{ node: { name: string } }> } }>(
    `{ profiles(first: 100) { edges { node { name } } } }`,
  );
  return ok(res).profiles.edges.map((e) => e.node.name);
}
