import { describe, expect, it } from 'vitest';
import { MAX_BACKOFF_DOUBLINGS, REPUSH_AFTER_MS, repushDelayMs, RepushBudget } from '../../../src/domain/repush-pacing.js';

describe('repushDelayMs', () => {
  it('doubles per send from 5 s and stops doubling at 160 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 40].map((n) => repushDelayMs(n))).toEqual([5000, 10_000, 20_000, 40_000, 80_000, 160_000, 160_000, 160_000]);
    expect(repushDelayMs(0)).toBe(REPUSH_AFTER_MS);
    expect(repushDelayMs(99)).toBe(REPUSH_AFTER_MS * 2 ** MAX_BACKOFF_DOUBLINGS);
  });
});

describe('RepushBudget', () => {
  it('starts with one second of re-sends, and refills at its rate without going past it', () => {
    const b = new RepushBudget(100, 0);
    expect(b.available(0)).toBe(100);
    b.spend(100, 0);
    expect(b.available(0)).toBe(0);
    expect(b.available(250)).toBe(25);
    expect(b.available(10_000)).toBe(100);
  });

  it('never goes below nothing, and time going backwards adds nothing', () => {
    const b = new RepushBudget(10, 1000);
    b.spend(50, 1000);
    expect(b.available(1000)).toBe(0);
    expect(b.available(500)).toBe(0);
    expect(b.available(1500)).toBe(5);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new RepushBudget(0, 0)).toThrow(RangeError);
    expect(() => new RepushBudget(Number.NaN, 0)).toThrow(RangeError);
  });
});
