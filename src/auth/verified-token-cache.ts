import type { TokenVerifier, VerifiedToken } from './tokens.js';

/**
 * Remembers tokens already verified, until they expire, so a client sending the
 * same token on every request (instances acking, CI polling) costs one HMAC or
 * signature check instead of one per request. Refusals are not cached; the
 * oldest entry goes first when the cache is full.
 */
export function cacheVerifiedTokens(inner: TokenVerifier, maxEntries = 10_000, now = () => Date.now()): TokenVerifier {
  const cache = new Map<string, VerifiedToken>();
  return {
    async verify(token) {
      const hit = cache.get(token);
      if (hit && hit.expiresAt * 1000 > now()) return hit;
      cache.delete(token);
      const verified = await inner.verify(token);
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(token, verified);
      return verified;
    },
  };
}
