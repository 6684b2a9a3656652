import { authenticate } from '../auth/authenticate.js';
import type { TokenVerifier } from '../auth/tokens.js';
import type { Principal } from '../domain/authorization.js';
import type { RateLimiter } from '../protection/rate-limiter.js';

/**
 * Authenticates a caller and charges its rate limit: by `sub` when it has a
 * token, by address when it has none.
 */
export class CallerGate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly rateLimiter: RateLimiter,
  ) {}

  async admit(authorization: unknown, address: string | undefined): Promise<Principal | undefined> {
    const principal = await authenticate(this.verifier, authorization);
    await this.rateLimiter.consume(principal ? `sub:${principal.sub}` : `addr:${address ?? 'unknown'}`);
    return principal;
  }
}
