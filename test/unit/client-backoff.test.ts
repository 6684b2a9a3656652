import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from '../../src/client/backoff.js';

describe('client backoff', () => {
  const opts = { initialDelayMs: 500, maxDelayMs: 30_000 };

  it('doubles the ceiling per attempt and draws from its upper half', () => {
    expect(backoffDelay(0, opts, () => 0)).toBe(250);
    expect(backoffDelay(0, opts, () => 1)).toBe(500);
    expect(backoffDelay(1, opts, () => 0)).toBe(500);
    expect(backoffDelay(1, opts, () => 1)).toBe(1000);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(3000); // ceiling 4000: 2000 + 0.5 × 2000
  });

  it('caps at maxDelayMs, however many attempts', () => {
    expect(backoffDelay(6, opts, () => 1)).toBe(30_000); // 500 × 64 > 30 000
    expect(backoffDelay(1000, opts, () => 1)).toBe(30_000);
    expect(backoffDelay(Infinity, opts, () => 0)).toBe(15_000);
  });

  it('stays within [ceiling / 2, ceiling] with real randomness', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(30_000, 500 * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, opts);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('uses 500 ms and 30 s by default and tolerates odd input', () => {
    expect(backoffDelay(0, {}, () => 1)).toBe(500);
    expect(backoffDelay(20, {}, () => 1)).toBe(30_000);
    expect(backoffDelay(-3, {}, () => 1)).toBe(500);
    expect(backoffDelay(2, { initialDelayMs: 1000, maxDelayMs: 10 }, () => 1)).toBe(1000); // max below initial: initial wins
  });

  it('sleep ends early when aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const slept = sleep(10_000, controller.signal);
    controller.abort();
    await slept;
    expect(Date.now() - started).toBeLessThan(1000);
    await sleep(10_000, controller.signal); // already aborted: resolves at once
  });
});
