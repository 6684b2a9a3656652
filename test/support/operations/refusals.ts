import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { mintToken } from '../../../src/auth/tokens.js';
import { Role } from '../../../src/domain/enums.js';
import { algNoneToken, type Api, expiredToken, foreignToken, signedToken } from '../api.js';
import { expectSafeResponse, postRaw, type RawResponse } from '../hostile-responses.js';
import { TEST_SECRET, type TestServer } from '../server.js';
import type { Fixtures } from './fixtures.js';
import type { Caller, Operation } from './operation.js';

/**
 * What the authorization table (test/security/tokens*.test.ts) expects of a
 * refusal: the tokens no operation accepts, the code, and a message naming
 * who was refused.
 */

const now = () => Math.floor(Date.now() / 1000);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

/** Tokens no operation may accept, whatever it is. */
export const BAD_TOKENS: ReadonlyArray<readonly [string, (server: TestServer) => Promise<string>]> = [
  ['forged (signed with another secret)', async () => foreignToken(Role.ADMIN)],
  ['expired an hour ago', async () => expiredToken(Role.ADMIN)],
  ['alg: none', async () => algNoneToken({ sub: 'mallory', role: 'ADMIN', exp: now() + 3600 })],
  ['alg: none, as an instance', async () => algNoneToken({ sub: 'm', role: 'INSTANCE', service: 's', environment: 'STAGING', instanceId: 'x', exp: now() + 3600 })],
  ['alg: RS256 header over an HMAC of the secret (algorithm confusion)', async () => {
    const real = await mintToken(TEST_SECRET, { sub: 'confused', role: Role.ADMIN, expiresInSeconds: 3600 });
    const [, payload, signature] = real.split('.');
    return `${b64url({ alg: 'RS256', typ: 'JWT' })}.${payload}.${signature}`;
  }],
  ['HS512-signed with the right secret (algorithm not allowed)', async () =>
    new SignJWT({ role: 'ADMIN' }).setProtectedHeader({ alg: 'HS512' }).setSubject('hs512').setExpirationTime(now() + 3600).sign(new TextEncoder().encode(`${TEST_SECRET}${TEST_SECRET}`))],
  ['a developer token with its payload changed to ADMIN', async (server) => {
    const real = await server.token(Role.DEVELOPER, { sub: 'dev' });
    const [header, , signature] = real.split('.');
    return `${header}.${b64url({ sub: 'dev', role: 'ADMIN', exp: now() + 3600 })}.${signature}`;
  }],
  ['malformed: not a JWT', async () => 'not.a.jwt'],
  ['malformed: two segments', async (server) => server.adminToken.split('.').slice(0, 2).join('.')],
  ['malformed: signature cut short', async (server) => server.adminToken.slice(0, -3)],
  ['malformed: binary garbage', async () => Buffer.from([0xff, 0xfe, 0x00, 0x41]).toString('base64url')],
  ['malformed: a JSON header that is not an object', async () => `${Buffer.from('"x"').toString('base64url')}.${b64url({ sub: 'a' })}.sig`],
  ['expired five seconds ago', async () => expiredToken(Role.ADMIN, 'just-expired', 5)],
  ['alg: none with a bogus signature', async () => `${algNoneToken({ sub: 'mallory', role: 'ADMIN', exp: now() + 3600 })}c2ln`],
  ['signed, without exp', async () => signedToken({ sub: 'no-exp', role: 'ADMIN' })],
  ['signed, without sub', async () => signedToken({ role: 'ADMIN', exp: now() + 3600 })],
  ['signed, with a blank sub', async () => signedToken({ sub: ' ', role: 'ADMIN', exp: now() + 3600 })],
  ['signed, without role', async () => signedToken({ sub: 'no-role', exp: now() + 3600 })],
  ['signed, with an unknown role (ROOT)', async () => signedToken({ sub: 'root', role: 'ROOT', exp: now() + 3600 })],
  ['signed, with a lowercase role (admin)', async () => signedToken({ sub: 'lower', role: 'admin', exp: now() + 3600 })],
  ['signed, of an INSTANCE without service or environment', async () => signedToken({ sub: 'inst', role: 'INSTANCE', exp: now() + 3600 })],
];

/**
 * How a FORBIDDEN refusal of `op` names its caller: a human role by name
 * ("role DEVELOPER may not …"); an instance's own token as INSTANCE, or as
 * that instance when it tries to register; a registration token as INSTANCE,
 * or as a registration token when it tries to act as an instance.
 */
export function refusalMessage(caller: Caller, op: Operation): RegExp {
  switch (caller) {
    case 'INSTANCE':
      return op.name === 'registerInstance' ? /^the token of instance \S+ may not register instances/ : /^role INSTANCE may not /;
    case 'REGISTRATION':
      return op.allowed.includes('INSTANCE') ? /^a registration token may only register instances/ : /^role INSTANCE may not /;
    default:
      return new RegExp(`^role ${caller} may not `);
  }
}

/** The codes a refused call may carry in the table. */
const TABLE_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT', 'VALIDATION_FAILED']);

/** POSTs `op` with its valid input on `fx` (or `variables`) and `token`; checks the answer is safe. */
export async function runOperation(server: TestServer, op: Operation, fx: Fixtures, token: string | null, variables = op.valid(fx)): Promise<RawResponse> {
  const body = JSON.stringify({ query: op.document, variables });
  const res = await postRaw(server.url, body, token);
  expectSafeResponse(res, body, TABLE_CODES);
  return res;
}

/** The answer is exactly one error with `code`, and no value for the operation. */
export function expectRefusedWith(res: RawResponse, op: Operation, code: string): void {
  const context = `${op.name}: HTTP ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.body?.errors?.map((e) => e.extensions?.code), context).toEqual([code]);
  const data = res.body?.data as Record<string, unknown> | null | undefined;
  expect(data?.[op.name] ?? null, context).toBeNull();
}

/** Nothing the refused callers sent was written: the fixtures' profile is intact, and no instance registered under a refused token. */
export async function expectFixturesIntact(a: Api, f: Fixtures): Promise<void> {
  const res = await a.gql<{ profile: { versions: { totalCount: number } } | null; instances: Array<{ host: string }> }>(
    'query($n: String!, $s: String!) { profile(name: $n) { versions { totalCount } } instances(service: $s) { host } }',
    { n: f.profile, s: f.service },
  );
  expect(res.data?.profile?.versions.totalCount).toBe(2);
  const hosts = (res.data?.instances ?? []).map((i) => i.host).sort();
  // The fixtures' two instances, plus one registered by each REGISTRATION probe (allowed) on the websocket.
  expect(hosts.filter((h) => h !== 'ws-probe')).toEqual(['fixture-host', 'fixture-other']);
}
