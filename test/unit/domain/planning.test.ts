import { describe, expect, it } from 'vitest';
import { DEFAULT_CANARY_PHASES } from '../../../src/domain/deployment-input.js';
import { Color } from '../../../src/domain/enums.js';
import { BadInputError } from '../../../src/domain/errors.js';
import {
  canaryPhaseSizes,
  type Plan,
  planBlueGreen,
  planCanary,
  planRolling,
  rollingBatchSizes,
  stableOrder,
} from '../../../src/domain/planning.js';

const ids = (n: number, prefix = 'i-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const DEFAULT = [0.1, 0.3, 0.5, 1];

/** Every instance exactly once, phases 1..phaseCount all used, in order. */
function expectWellFormed(plan: Plan, instanceIds: readonly string[]): void {
  expect(plan.targets.map((t) => t.instanceId).sort()).toEqual([...new Set(instanceIds)].sort());
  const phases = plan.targets.map((t) => t.phase);
  expect(new Set(phases)).toEqual(new Set(Array.from({ length: plan.phaseCount }, (_, i) => i + 1)));
  expect(phases).toEqual([...phases].sort((a, b) => a - b));
}

function phaseSizes(plan: Plan): number[] {
  return Array.from({ length: plan.phaseCount }, (_, i) => plan.targets.filter((t) => t.phase === i + 1).length);
}

describe('stableOrder', () => {
  it('is a permutation of the ids and deterministic', () => {
    const input = ids(50);
    const a = stableOrder(input, 'dep-1');
    expect([...a].sort()).toEqual([...input].sort());
    expect(stableOrder(input, 'dep-1')).toEqual(a);
    expect(stableOrder([...input].reverse(), 'dep-1')).toEqual(a);
  });

  it('differs per deployment', () => {
    expect(stableOrder(ids(50), 'dep-1')).not.toEqual(stableOrder(ids(50), 'dep-2'));
  });

  it('is sha256(deploymentId:instanceId) order, the same in every process', () => {
    // sha256("d:a") = 3106f665…, sha256("d:b") = c8b6dffd…, sha256("d:c") = 954027ea…
    expect(stableOrder(['a', 'b', 'c'], 'd')).toEqual(['a', 'c', 'b']);
    expect(stableOrder(['c', 'b', 'a'], 'd')).toEqual(['a', 'c', 'b']);
  });

  it('keeps duplicates once and handles empty input', () => {
    expect(stableOrder([], 'd')).toEqual([]);
    expect(stableOrder(['x', 'x', 'y'], 'd').sort()).toEqual(['x', 'y']);
  });

  it('spreads the first 10% of 1,000 instances differently per deployment, roughly uniformly', () => {
    const fleet = ids(1000);
    const firstA = stableOrder(fleet, 'deployment-a').slice(0, 100);
    const firstB = stableOrder(fleet, 'deployment-b').slice(0, 100);
    const overlap = firstA.filter((id) => firstB.includes(id)).length;
    expect(overlap).toBeLessThan(30); // ~10 expected by chance
    for (const first of [firstA, firstB]) {
      const indexes = first.map((id) => Number(id.slice(2)));
      const meanIndex = indexes.reduce((a, b) => a + b, 0) / indexes.length;
      expect(meanIndex).toBeGreaterThan(350);
      expect(meanIndex).toBeLessThan(650);
      // each decile of the id space is represented
      const deciles = new Set(indexes.map((i) => Math.floor(i / 100)));
      expect(deciles.size).toBe(10);
    }
  });
});

describe('canaryPhaseSizes', () => {
  it.each([
    [0, []],
    [1, [1]],
    [2, [1, 1]],
    [3, [1, 1, 1]],
    [4, [1, 1, 1, 1]],
    [10, [1, 2, 2, 5]],
    [11, [2, 2, 2, 5]],
    [1000, [100, 200, 200, 500]],
  ])('fleet %i with the default phases → %j', (total, expected) => {
    const sizes = canaryPhaseSizes(total, DEFAULT_CANARY_PHASES);
    expect(sizes).toEqual(expected);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('ignores float noise in share × total (0.07 × 100 is 7, not 8)', () => {
    expect(canaryPhaseSizes(100, [0.07, 1])).toEqual([7, 93]);
    expect(canaryPhaseSizes(100, [0.57, 1])).toEqual([57, 43]);
  });

  it('rounds up the cumulative target', () => {
    expect(canaryPhaseSizes(7, [0.5, 1])).toEqual([4, 3]);
    expect(canaryPhaseSizes(9, [0.25, 0.5, 0.75, 1])).toEqual([3, 2, 2, 2]);
  });

  it('gives each phase at least one instance while any remain', () => {
    expect(canaryPhaseSizes(100, [0.01, 0.011, 0.012, 1])).toEqual([1, 1, 1, 97]);
    expect(canaryPhaseSizes(5, [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 1])).toEqual([1, 1, 1, 1, 1]);
  });

  it('supports custom shares, including a single phase', () => {
    expect(canaryPhaseSizes(20, [0.05, 0.25, 1])).toEqual([1, 4, 15]);
    expect(canaryPhaseSizes(20, [1])).toEqual([20]);
  });

  it.each([
    [[], /at least one share/],
    [[0, 1], /share in \(0, 1\]/],
    [[0.5, 1.2], /share in \(0, 1\]/],
    [[0.5, 0.3, 1], /strictly ascending/],
    [[0.1, 0.5], /last canary phase must be 1.0/],
    [[Number.NaN, 1], /share in/],
  ])('refuses shares %j', (shares, message) => {
    expect(() => canaryPhaseSizes(10, shares)).toThrow(BadInputError);
    expect(() => canaryPhaseSizes(10, shares)).toThrow(message);
  });

  it.each([-1, 1.5, Number.NaN])('refuses fleet size %s', (total) => {
    expect(() => canaryPhaseSizes(total, DEFAULT)).toThrow(BadInputError);
  });
});

describe('planCanary', () => {
  it.each([0, 1, 2, 3, 1000])('fleet of %i: every instance exactly once, phases 1..n', (n) => {
    const fleet = ids(n);
    const plan = planCanary(fleet, 'dep-1', DEFAULT);
    expectWellFormed(plan, fleet);
    expect(phaseSizes(plan)).toEqual(canaryPhaseSizes(n, DEFAULT));
    expect(plan.phaseCount).toBe(canaryPhaseSizes(n, DEFAULT).length);
  });

  it('an empty fleet has no phases', () => {
    expect(planCanary([], 'dep-1', DEFAULT)).toEqual({ phaseCount: 0, targets: [] });
  });

  it('takes the instances in stable order: the first phase is the head of stableOrder', () => {
    const fleet = ids(1000);
    const plan = planCanary(fleet, 'dep-1', DEFAULT);
    expect(plan.targets.map((t) => t.instanceId)).toEqual(stableOrder(fleet, 'dep-1'));
  });

  it('is deterministic, and another deployment picks other canaries', () => {
    const fleet = ids(200);
    expect(planCanary(fleet, 'dep-1', DEFAULT)).toEqual(planCanary([...fleet].reverse(), 'dep-1', DEFAULT));
    const first = (d: string) => planCanary(fleet, d, DEFAULT).targets.filter((t) => t.phase === 1).map((t) => t.instanceId);
    expect(first('dep-1')).not.toEqual(first('dep-2'));
  });

  it('uses custom shares', () => {
    const plan = planCanary(ids(10), 'dep-1', [0.2, 1]);
    expect(phaseSizes(plan)).toEqual([2, 8]);
  });

  it('counts duplicate ids once', () => {
    const plan = planCanary(['a', 'b', 'a'], 'dep-1', DEFAULT);
    expectWellFormed(plan, ['a', 'b']);
    expect(plan.targets).toHaveLength(2);
  });
});

describe('rollingBatchSizes', () => {
  it.each([
    [0, 3, []],
    [1, 3, [1]],
    [10, 3, [3, 3, 3, 1]],
    [9, 3, [3, 3, 3]],
    [5, 10, [5]],
    [3, 1, [1, 1, 1]],
  ])('fleet %i, batchSize %i → %j', (total, batchSize, expected) => {
    expect(rollingBatchSizes(total, { batchSize, batchPercent: null })).toEqual(expected);
  });

  it.each([
    [0, 25, []],
    [1, 25, [1]],
    [2, 25, [1, 1]],
    [3, 25, [1, 1, 1]],
    [10, 25, [3, 3, 3, 1]],
    [1000, 25, [250, 250, 250, 250]],
    [100, 7, [7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 2]],
    [10, 100, [10]],
    [1000, 0.01, Array.from({ length: 1000 }, () => 1)],
  ])('fleet %i, batchPercent %s → %j', (total, batchPercent, expected) => {
    const sizes = rollingBatchSizes(total, { batchSize: null, batchPercent });
    expect(sizes).toEqual(expected);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('prefers batchSize when both are given', () => {
    expect(rollingBatchSizes(10, { batchSize: 4, batchPercent: 50 })).toEqual([4, 4, 2]);
  });

  it.each([
    [{ batchSize: null, batchPercent: null }, /batchSize or batchPercent/],
    [{ batchSize: 0, batchPercent: null }, /whole number ≥ 1/],
    [{ batchSize: 1.5, batchPercent: null }, /whole number ≥ 1/],
    [{ batchSize: null, batchPercent: 0 }, /\(0, 100\]/],
    [{ batchSize: null, batchPercent: 101 }, /\(0, 100\]/],
  ])('refuses %j', (opts, message) => {
    expect(() => rollingBatchSizes(10, opts)).toThrow(BadInputError);
    expect(() => rollingBatchSizes(10, opts)).toThrow(message);
  });
});

describe('planRolling', () => {
  it.each([0, 1, 2, 3, 1000])('fleet of %i by 10%%: every instance once, batches in stable order', (n) => {
    const fleet = ids(n);
    const plan = planRolling(fleet, 'dep-9', { batchSize: null, batchPercent: 10 });
    expectWellFormed(plan, fleet);
    expect(phaseSizes(plan)).toEqual(rollingBatchSizes(n, { batchSize: null, batchPercent: 10 }));
    expect(plan.targets.map((t) => t.instanceId)).toEqual(stableOrder(fleet, 'dep-9'));
  });

  it('a batch larger than the fleet is one phase', () => {
    const plan = planRolling(ids(3), 'dep-9', { batchSize: 50, batchPercent: null });
    expect(plan.phaseCount).toBe(1);
    expect(plan.targets.every((t) => t.phase === 1)).toBe(true);
  });

  it('is deterministic', () => {
    const opts = { batchSize: 2, batchPercent: null };
    expect(planRolling(ids(7), 'd', opts)).toEqual(planRolling(ids(7).reverse(), 'd', opts));
  });
});

describe('planBlueGreen', () => {
  const fleet = [
    { id: 'b-2', color: 'BLUE' as const },
    { id: 'g-2', color: 'GREEN' as const },
    { id: 'b-1', color: 'BLUE' as const },
    { id: 'g-1', color: 'GREEN' as const },
    { id: 'n-1', color: null },
  ];

  it('targets the GREEN instances when BLUE is active, in one phase, sorted by id', () => {
    expect(planBlueGreen(fleet, 'BLUE')).toEqual({
      idleColor: 'GREEN',
      plan: { phaseCount: 1, targets: [{ instanceId: 'g-1', phase: 1 }, { instanceId: 'g-2', phase: 1 }] },
    });
  });

  it('targets the BLUE instances when GREEN is active', () => {
    const { plan, idleColor } = planBlueGreen(fleet, 'GREEN');
    expect(idleColor).toBe('BLUE');
    expect(plan.targets.map((t) => t.instanceId)).toEqual(['b-1', 'b-2']);
  });

  it('with no active color yet, BLUE counts as active and GREEN is idle', () => {
    expect(planBlueGreen(fleet, null).idleColor).toBe('GREEN');
  });

  it('accepts the Color enum', () => {
    expect(planBlueGreen([{ id: 'x', color: Color.BLUE }], Color.GREEN).idleColor).toBe('BLUE');
  });

  it('refuses when no instance has the idle color', () => {
    const onlyBlue = fleet.filter((i) => i.color !== 'GREEN');
    expect(() => planBlueGreen(onlyBlue, 'BLUE')).toThrow(BadInputError);
    expect(() => planBlueGreen(onlyBlue, 'BLUE')).toThrow(
      'no GREEN instances of the service are registered: blue-green needs instances of the idle color',
    );
    expect(() => planBlueGreen([], null)).toThrow('no GREEN instances of the service are registered');
  });

  it('refuses when no instance has a color at all', () => {
    expect(() => planBlueGreen([{ id: 'a', color: null }, { id: 'b', color: null }], 'BLUE')).toThrow(
      'no instance of the service has a color: blue-green needs instances registered with color BLUE or GREEN',
    );
  });
});
