import { webcrypto } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { type Principal } from '../domain/authorization.js';
import { Color, Environment, isEnumValue, Role } from '../domain/enums.js';
import { UnauthenticatedError } from '../domain/errors.js';

/** A token that verified: who it names and when it expires (seconds since the epoch). */
export interface VerifiedToken {
  principal: Principal;
  expiresAt: number;
}

/** Turns a bearer token into the principal it names, or refuses it. */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

export type TokenKeySource = { secret: string } | { jwksUrl: string };

/** Verifies HS256 tokens with a shared secret, or RS/ES tokens against a JWKS URL. */
export function createTokenVerifier(source: TokenKeySource): TokenVerifier {
  const options = { requiredClaims: ['sub', 'exp'] };
  if ('secret' in source) {
    return {
      verify: (token) => verifyWith(async () => jwtVerify(token, await hmacKey(source.secret), { ...options, algorithms: ['HS256'] })),
    };
  }
  const jwks = createRemoteJWKSet(new URL(source.jwksUrl));
  return {
    verify: (token) =>
      verifyWith(() => jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'] })),
  };
}

async function verifyWith(run: () => Promise<{ payload: JWTPayload }>): Promise<VerifiedToken> {
  let payload: JWTPayload;
  try {
    ({ payload } = await run());
  } catch (error) {
    throw new UnauthenticatedError(`invalid token: ${describeJoseError(error)}`);
  }
  // requiredClaims guarantees exp.
  return { principal: principalFromClaims(payload), expiresAt: payload.exp! };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not allowed';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim "${error.claim}" ${error.reason === 'missing' ? 'is missing' : 'is invalid'}`;
  if (error instanceof joseErrors.JOSEError) return 'it is malformed';
  return 'it could not be verified';
}

/** Reads our claims out of a verified payload; other claims are ignored. */
export function principalFromClaims(claims: JWTPayload & Record<string, unknown>): Principal {
  const { sub, role } = claims;
  if (typeof sub !== 'string' || sub.trim() === '') throw new UnauthenticatedError('invalid token: "sub" must be a non-empty string');
  if (!isEnumValue(Role, role)) {
    throw new UnauthenticatedError(`invalid token: "role" must be one of ${Object.values(Role).join(', ')}`);
  }
  const principal: Principal = { sub, role };
  if (role === Role.INSTANCE) {
    const { service, environment, instanceId } = claims;
    if (typeof service !== 'string' || service === '' || !isEnumValue(Environment, environment)) {
      throw new UnauthenticatedError('invalid token: an INSTANCE token needs "service" and "environment"');
    }
    principal.service = service;
    principal.environment = environment;
    if (instanceId !== undefined) {
      if (typeof instanceId !== 'string' || instanceId === '') throw new UnauthenticatedError('invalid token: "instanceId" must be a string');
      principal.instanceId = instanceId;
    }
    // Only read to restore a lost registration (src/domain/instance-identity.ts), which checks the host; a bad one is ignored there.
    if (typeof claims.host === 'string') principal.host = claims.host;
    if (isEnumValue(Color, claims.color)) principal.color = claims.color;
  }
  return principal;
}

export interface MintOptions {
  sub: string;
  role: Role;
  /** Lifetime in seconds. */
  expiresInSeconds: number;
  instanceId?: string;
  service?: string;
  environment?: Environment;
  /** INSTANCE tokens of a registered instance: its host and color, so a lost registration can be restored from the token. */
  host?: string;
  color?: Color;
}

/** Signs an HS256 token; the CLI and the embedded start-up use it. */
export async function mintToken(secret: string, o: MintOptions): Promise<string> {
  const claims: Record<string, string> = { role: o.role };
  if (o.instanceId !== undefined) claims.instanceId = o.instanceId;
  if (o.service !== undefined) claims.service = o.service;
  if (o.environment !== undefined) claims.environment = o.environment;
  if (o.host !== undefined) claims.host = o.host;
  if (o.color !== undefined) claims.color = o.color;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(o.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + o.expiresInSeconds)
    .sign(await hmacKey(secret));
}

/** HMAC keys by secret, imported once: given the secret's bytes, jose imports a WebCrypto key on every sign and verify. */
const hmacKeys = new Map<string, Promise<webcrypto.CryptoKey>>();

/**
 * The HS256 key of `secret`. Importing it per token cost ~60 µs of the ~220 µs
 * a verify took, the largest part of a reconnect storm's server time after a
 * restart (every token verified afresh). A handful of secrets per process.
 */
function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    hmacKeys.set(secret, key);
  }
  return key;
}
