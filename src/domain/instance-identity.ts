import type { Principal } from './authorization.js';
import { type Color, type Environment, Role } from './enums.js';
import { isUuid } from './ids.js';
import { validateHost } from './instance.js';
import { validateServiceName } from './profile.js';

/**
 * Identities that survive a lost registry. The registry (Redis, or memory in
 * the embedded default) can lose its records: Redis restarted empty, the
 * embedded server restarted. An INSTANCE token names its instance, service and
 * environment (and, from tokens issued since, its host and color), so a valid
 * token for an id the registry does not know restores that registration under
 * the same id, instead of making the instance register anew. What no token
 * carries starts over: metadata (null until the instance registers again), the
 * metrics history (filled by the next heartbeats), registeredAt (the restore).
 *
 * An instance that ended — deregistered (by itself or an operator) or reaped —
 * must not come back that way: its id is kept, in PostgreSQL, for as long as a
 * token naming it may still be valid ({@link endedRetentionSeconds}).
 */

/** Why an instance ended; either way its token may no longer restore it. */
export const EndReason = {
  /** deregisterInstance: by the instance itself, an OPERATOR or an ADMIN. */
  DEREGISTERED: 'DEREGISTERED',
  /** Removed by the reaper after being STALE for the grace period. */
  REAPED: 'REAPED',
} as const;
export type EndReason = (typeof EndReason)[keyof typeof EndReason];

/** The host of a registration restored from a token that carries none (issued before tokens carried it). */
export const UNKNOWN_HOST = 'unknown';

/** Slack for clocks: a token signed on a replica whose clock runs ahead may expire a little after we think. */
export const ENDED_RETENTION_MARGIN_SECONDS = 600;

/** What a registration restored from a token holds. */
export interface TokenIdentity {
  instanceId: string;
  service: string;
  environment: Environment;
  host: string;
  color: Color | null;
}

/**
 * The registration `principal`'s token can restore for `instanceId`, or null
 * when it can restore none: not an INSTANCE token of that very instance (a
 * registration token, another instance's token, a person's token), or claims
 * HotSwap would never have issued (an id that is not a UUID, a service name
 * that is not a slug). A host claim that is not a valid host is read as none.
 *
 * @example restorableIdentity({ sub: 'a…', role: INSTANCE, instanceId: 'a…', service: 'orders', environment: STAGING }, 'a…')
 *   → { instanceId: 'a…', service: 'orders', environment: STAGING, host: 'unknown', color: null }
 * @example restorableIdentity(the same token, 'b…') → null (a token for A cannot restore B)
 * @example restorableIdentity({ sub: 'alice', role: ADMIN }, 'a…') → null (nothing to restore from)
 */
export function restorableIdentity(principal: Principal | undefined, instanceId: string): TokenIdentity | null {
  if (principal?.role !== Role.INSTANCE || principal.instanceId !== instanceId || !isUuid(instanceId)) return null;
  const { service, environment } = principal;
  if (service === undefined || environment === undefined || !isValid(() => validateServiceName(service))) return null;
  const host = principal.host !== undefined && isValid(() => validateHost(principal.host!)) ? principal.host : UNKNOWN_HOST;
  return { instanceId, service, environment, host, color: principal.color ?? null };
}

/**
 * How long an ended instance's id is kept: every token naming it was issued
 * before it ended (no token is issued for an ended instance), so none is valid
 * later than one token lifetime after the end, plus a margin for clocks.
 *
 * @param tokenTtlSeconds - the instance token lifetime (HOTSWAP_INSTANCE_TOKEN_TTL_SECONDS)
 * @example endedRetentionSeconds(7 * 86_400) → 605_400 (7 days and 10 minutes)
 */
export function endedRetentionSeconds(tokenTtlSeconds: number): number {
  return tokenTtlSeconds + ENDED_RETENTION_MARGIN_SECONDS;
}

function isValid(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}
