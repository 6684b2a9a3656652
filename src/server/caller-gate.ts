import type { TokenVerifier } from '../auth/tokens.js';
import type { Principal } from '../domain/authorization.js';
import { UnauthenticatedError } from '../domain/errors.js';
import type { RateLimiter } from './rate-limiter.js';

/** A caller let in: who, and until when its token is valid (ms since the epoch; null without a token). */
export interface Admitted {
  principal: Principal | undefined;
  expiresAtMs: number | null;
}

/**
 * Authenticates a caller and charges its rate limit: by `sub` when it has a
 * valid token, by address when it has none or a bad one (so bad tokens cannot
 * be sent without limit).
 */
export class CallerGate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly rateLimiter: RateLimiter,
  ) {}

  async admit(authorization: unknown, address: string | undefined): Promise<Admitted> {
    const byAddress = `addr:${address ?? 'unknown'}`;
    if (authorization === undefined || authorization === null || authorization === '') {
      await this.rateLimiter.consume(byAddress);
      return { principal: undefined, expiresAtMs: null };
    }
    try {
      if (typeof authorization !== 'string') throw new UnauthenticatedError('the authorization value must be a string "Bearer <token>"');
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match?.[1]) throw new UnauthenticatedError('the authorization header must be "Bearer <token>"');
      const verified = await this.verifier.verify(match[1]);
      await this.charge(verified.principal);
      return { principal: verified.principal, expiresAtMs: verified.expiresAt * 1000 };
    } catch (error) {
      if (error instanceof UnauthenticatedError) await this.rateLimiter.consume(byAddress);
      throw error;
    }
  }

  /** Charges one operation to an authenticated caller (each websocket operation). */
  charge(principal: Principal): Promise<void> {
    return this.rateLimiter.consume(`sub:${principal.sub}`);
  }
}
