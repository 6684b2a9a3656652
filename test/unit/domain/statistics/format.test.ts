import { describe, expect, it } from 'vitest';
import { decimalsToTell, formatAmount, formatDifference, formatPValue, formatValue } from '../../../../src/domain/statistics/format.js';

describe('formatValue and formatDifference', () => {
  it('reads shares as percent and their differences in points', () => {
    expect(formatValue('share', 0.021)).toBe('2.1 %');
    expect(formatValue('share', 0.004)).toBe('0.4 %');
    expect(formatValue('share', 0)).toBe('0 %');
    expect(formatDifference('share', 0.017)).toBe('+1.7 points');
    expect(formatDifference('share', -0.003)).toBe('-0.3 points');
    expect(formatDifference('share', 0.01)).toBe('+1 point');
    expect(formatAmount('share', 0.005)).toBe('0.5');
  });

  it('keeps two significant digits of a small non-zero value rather than printing 0', () => {
    expect(formatValue('share', 0.00004)).toBe('0.004 %');
    expect(formatDifference('ms', -0.0123)).toBe('-0.012 ms');
  });

  it('reads latency in ms and custom metrics as plain numbers, without float noise', () => {
    expect(formatValue('ms', 240)).toBe('240 ms');
    expect(formatValue('ms', 0.1 + 0.2)).toBe('0.3 ms');
    expect(formatDifference('ms', 40)).toBe('+40 ms');
    expect(formatValue('plain', 17.25, 2)).toBe('17.25');
    expect(formatDifference('plain', -30)).toBe('-30');
    expect(formatDifference('plain', -0.00001, 1)).toBe('-0.00001');
  });

  it('prints 0, and float noise under 1e-9, without a sign and never as -0', () => {
    expect(formatDifference('share', 0)).toBe('0 points');
    expect(formatDifference('ms', -1e-12)).toBe('0 ms');
    expect(formatValue('plain', -0)).toBe('0');
  });
});

describe('decimalsToTell', () => {
  it('adds decimals until two different numbers read differently', () => {
    expect(decimalsToTell('share', 0.017, 0.005)).toBe(1);
    expect(decimalsToTell('share', 0.0054, 0.005)).toBe(2);
    expect(decimalsToTell('ms', 20.004, 20)).toBe(3);
    expect(decimalsToTell('ms', 20, 20)).toBe(1);
  });
});

describe('formatPValue', () => {
  it('gives three decimals, and p<0.001 below that', () => {
    expect(formatPValue(0.0033)).toBe('p=0.003');
    expect(formatPValue(0.31)).toBe('p=0.31');
    expect(formatPValue(0.29)).toBe('p=0.29');
    expect(formatPValue(0.00004)).toBe('p<0.001');
    expect(formatPValue(1)).toBe('p=1');
  });

  it('cuts rather than rounds, so a p-value under 0.02 never reads as 0.02', () => {
    expect(formatPValue(0.0199)).toBe('p=0.019');
    expect(formatPValue(0.02)).toBe('p=0.02');
    expect(formatPValue(0.0499999)).toBe('p=0.049');
  });
});
