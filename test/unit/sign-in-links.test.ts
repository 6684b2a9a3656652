import { describe, expect, it } from 'vitest';
import { SignInLinks } from '../../src/auth/sign-in-links.js';
import { UnauthenticatedError } from '../../src/domain/errors.js';

describe('one-time sign-in links', () => {
  const make = (ttlMs = 1000) => {
    let now = 0;
    let minted = 0;
    const links = new SignInLinks(async () => `token-${++minted}`, ttlMs, () => now);
    return { links, advance: (ms: number) => void (now += ms) };
  };

  it('trades a code for a token once; the second use is refused', async () => {
    const { links } = make();
    const code = links.issue();
    expect(code).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await expect(links.redeem(code)).resolves.toBe('token-1');
    await expect(links.redeem(code)).rejects.toThrow(UnauthenticatedError);
  });

  it('refuses an expired code, an unknown one, and says why in one message for all', async () => {
    const { links, advance } = make(1000);
    const code = links.issue();
    advance(1001);
    await expect(links.redeem(code)).rejects.toThrow(/used already, has expired, or belongs to another server start/);
    await expect(links.redeem('made-up')).rejects.toThrow(UnauthenticatedError);
  });

  it('gives each start its own codes: one code does not open another', async () => {
    const { links } = make();
    const first = links.issue();
    const second = links.issue();
    expect(first).not.toBe(second);
    await links.redeem(first);
    await expect(links.redeem(second)).resolves.toBe('token-2');
  });
});
