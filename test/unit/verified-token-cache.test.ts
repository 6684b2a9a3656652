import { describe, expect, it } from 'vitest';
import type { TokenVerifier, VerifiedToken } from '../../src/auth/tokens.js';
import { cacheVerifiedTokens } from '../../src/auth/verified-token-cache.js';
import { Role } from '../../src/domain/enums.js';
import { UnauthenticatedError } from '../../src/domain/errors.js';

function countingVerifier(expiresAt: number): TokenVerifier & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    verify(token) {
      calls.push(token);
      if (token === 'bad') return Promise.reject(new UnauthenticatedError('invalid token'));
      return Promise.resolve<VerifiedToken>({ principal: { sub: token, role: Role.ADMIN }, expiresAt });
    },
  };
}

describe('cacheVerifiedTokens', () => {
  it('verifies a token once and answers from the cache until it expires', async () => {
    let clock = 1_000_000;
    const inner = countingVerifier(1_000 + 60);
    const cached = cacheVerifiedTokens(inner, 10, () => clock);
    expect((await cached.verify('a')).principal.sub).toBe('a');
    expect((await cached.verify('a')).principal.sub).toBe('a');
    expect(inner.calls).toEqual(['a']);
    clock = 1_060_000; // exactly at exp: no longer valid
    await cached.verify('a');
    expect(inner.calls).toEqual(['a', 'a']);
  });

  it('never caches a refusal', async () => {
    const inner = countingVerifier(2_000_000_000);
    const cached = cacheVerifiedTokens(inner);
    await expect(cached.verify('bad')).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(cached.verify('bad')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(inner.calls).toEqual(['bad', 'bad']);
  });

  it('drops the oldest entry when full', async () => {
    const inner = countingVerifier(2_000_000_000);
    const cached = cacheVerifiedTokens(inner, 2);
    await cached.verify('a');
    await cached.verify('b');
    await cached.verify('c'); // evicts a
    await cached.verify('b');
    await cached.verify('a');
    expect(inner.calls).toEqual(['a', 'b', 'c', 'a']);
  });
});
