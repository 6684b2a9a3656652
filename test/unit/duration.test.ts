import { describe, expect, it } from 'vitest';
import { parseDurationSeconds } from '../../src/cli/duration.js';

describe('parseDurationSeconds', () => {
  it.each([
    ['3600', 3600],
    ['90s', 90],
    ['15m', 900],
    ['12h', 43_200],
    ['30d', 2_592_000],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseDurationSeconds(text)).toBe(seconds);
  });

  it.each(['', '0', '-5', '1.5h', '12 hours', 'h'])('refuses %j', (text) => {
    expect(parseDurationSeconds(text)).toBeNull();
  });
});
