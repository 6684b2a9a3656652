import type { Principal } from '../domain/authorization.js';
import { UnauthenticatedError } from '../domain/errors.js';
import type { TokenVerifier } from './tokens.js';

/**
 * Reads `Bearer <jwt>` from an Authorization header (HTTP) or the
 * `authorization` connection param (websocket). No header means an anonymous
 * caller (refused later by each operation); a bad header or token is refused here.
 */
export async function authenticate(verifier: TokenVerifier, header: unknown): Promise<Principal | undefined> {
  if (header === undefined || header === null || header === '') return undefined;
  if (typeof header !== 'string') throw new UnauthenticatedError('the authorization value must be a string "Bearer <token>"');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new UnauthenticatedError('the authorization header must be "Bearer <token>"');
  return (await verifier.verify(match[1])).principal;
}
