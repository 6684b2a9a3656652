import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError } from '../domain/errors.js';

/** Per-caller request budget. */
export interface RateLimiter {
  /** Counts one request of `key`; throws RATE_LIMITED when its budget is spent. */
  consume(key: string): Promise<void>;
}

/** The window that grants the 10× burst: RATE × 10 requests per 10 s. */
const WINDOW_SECONDS = 10;

/**
 * RATE_LIMIT_PER_SECOND requests per second per caller on average, with bursts
 * of up to 10× that: each caller has RATE × 10 requests per 10-second window.
 * Counted in Redis when there is one (shared by all replicas; an in-memory
 * limiter stands in while Redis is unreachable), in memory otherwise.
 */
export function createRateLimiter(perSecond: number, redis?: Redis, keyPrefix = 'hotswap:'): RateLimiter {
  if (perSecond === 0) return { consume: () => Promise.resolve() };
  const options = { points: perSecond * WINDOW_SECONDS, duration: WINDOW_SECONDS, keyPrefix: `${keyPrefix}ratelimit` };
  const memory = new RateLimiterMemory(options);
  const limiter: RateLimiterAbstract = redis
    ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: memory })
    : memory;
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          throw new RateLimitedError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
        }
        throw rejection;
      }
    },
  };
}
