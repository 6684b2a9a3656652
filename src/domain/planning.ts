/**
 * Phase and batch planning of progressive deployments (canary, rolling,
 * blue-green) as pure functions: no I/O, no clock, no randomness. The same
 * inputs always give the same plan, in every process.
 */
import { createHash } from 'node:crypto';
import { BadInputError } from './errors.js';

/** Targets split into phases: phase numbers start at 1 and are contiguous. */
export interface Plan {
  phaseCount: number;
  targets: Array<{ instanceId: string; phase: number }>;
}

export type BlueGreenColor = 'BLUE' | 'GREEN';

/**
 * Products such as `0.07 × 100` come out as `7.000000000000001`; ceiling that
 * would give 8. A product within 1e-9 (relative) of a whole number counts as
 * that whole number before it is rounded up.
 */
function ceilShare(share: number, total: number): number {
  const exact = share * total;
  const whole = Math.round(exact);
  return Math.abs(exact - whole) <= 1e-9 * Math.max(1, Math.abs(exact)) ? whole : Math.ceil(exact);
}

function assertFleetSize(total: number): void {
  if (!Number.isSafeInteger(total) || total < 0) {
    throw new BadInputError(`the number of instances must be a whole number ≥ 0, got ${total}`);
  }
}

/**
 * The instance ids ordered by `sha256(deploymentId + ':' + instanceId)` (hex),
 * ties (practically impossible) broken by id. Deterministic across calls and
 * processes, different per deployment and roughly uniform, so every deployment
 * picks its own first canaries. Duplicate ids are kept once.
 */
export function stableOrder(instanceIds: readonly string[], deploymentId: string): string[] {
  const keyed = [...new Set(instanceIds)].map((id) => ({
    id,
    key: createHash('sha256').update(`${deploymentId}:${id}`).digest('hex'),
  }));
  keyed.sort((a, b) => compare(a.key, b.key) || compare(a.id, b.id));
  return keyed.map((k) => k.id);
}

/** Code-unit order: the same in every locale and process. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * How many NEW instances each canary phase takes.
 *
 * Rounding: phase i's cumulative target is `ceil(shares[i] × total)` (a product
 * within 1e-9 of a whole number counts as that number, so float noise never
 * adds an instance), raised to at least one more than the phases before it
 * took, and capped at `total`. So each phase takes at least one new instance
 * while any remain, and phases that would get none because the fleet is
 * already exhausted are dropped:
 *
 * - total 0 → `[]` (no phases)
 * - total 1 → `[1]`
 * - total 2, [0.1, 0.3, 0.5, 1] → `[1, 1]` (targets 1, then 1 → raised to 2)
 * - total 3, [0.1, 0.3, 0.5, 1] → `[1, 1, 1]` (targets 1, 1 → 2, 2 → 3)
 * - total 10 → `[1, 2, 2, 5]`; total 1,000 → `[100, 200, 200, 500]`
 *
 * The sizes always sum to `total`.
 *
 * @param shares - cumulative shares of the fleet, strictly ascending in (0, 1], the last one 1
 * @throws BadInputError when `total` is not a whole number ≥ 0 or the shares are invalid
 */
export function canaryPhaseSizes(total: number, shares: readonly number[]): number[] {
  assertFleetSize(total);
  assertShares(shares);
  const sizes: number[] = [];
  let done = 0;
  for (const share of shares) {
    if (done >= total) break;
    const cumulative = Math.min(total, Math.max(ceilShare(share, total), done + 1));
    sizes.push(cumulative - done);
    done = cumulative;
  }
  return sizes;
}

function assertShares(shares: readonly number[]): void {
  if (shares.length === 0) throw new BadInputError('canary phases must list at least one share');
  shares.forEach((share, i) => {
    if (!(Number.isFinite(share) && share > 0 && share <= 1)) {
      throw new BadInputError(`canary phase ${i + 1} must be a share in (0, 1], got ${share}`);
    }
    if (i > 0 && share <= shares[i - 1]!) {
      throw new BadInputError('canary phases must be strictly ascending, e.g. [0.1, 0.3, 0.5, 1.0]');
    }
  });
  if (shares.at(-1) !== 1) throw new BadInputError('the last canary phase must be 1.0 (the whole fleet)');
}

/**
 * Rolling batch sizes: `batchSize` each when given, else
 * `ceil(batchPercent / 100 × total)` each (float noise ignored as in
 * {@link canaryPhaseSizes}); at least 1; the last batch takes the rest, so the
 * sizes sum to `total` (a batch larger than the fleet gives one batch; fleet 0
 * gives `[]`). `batchSize` wins when both are given.
 *
 * @throws BadInputError when neither is given, batchSize is not a whole number ≥ 1,
 *   or batchPercent is not in (0, 100]
 */
export function rollingBatchSizes(total: number, opts: { batchSize: number | null; batchPercent: number | null }): number[] {
  assertFleetSize(total);
  let size: number;
  if (opts.batchSize !== null) {
    if (!(Number.isSafeInteger(opts.batchSize) && opts.batchSize >= 1)) {
      throw new BadInputError(`rolling batchSize must be a whole number ≥ 1, got ${opts.batchSize}`);
    }
    size = opts.batchSize;
  } else if (opts.batchPercent !== null) {
    if (!(Number.isFinite(opts.batchPercent) && opts.batchPercent > 0 && opts.batchPercent <= 100)) {
      throw new BadInputError(`rolling batchPercent must be a percentage in (0, 100], got ${opts.batchPercent}`);
    }
    size = Math.max(1, ceilShare(opts.batchPercent / 100, total));
  } else {
    throw new BadInputError('rolling needs batchSize or batchPercent');
  }
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= size) sizes.push(Math.min(size, left));
  return sizes;
}

/** Assigns consecutive phases (from 1) to consecutive slices of `ordered`. */
function toPlan(ordered: readonly string[], sizes: readonly number[]): Plan {
  const targets: Plan['targets'] = [];
  let next = 0;
  sizes.forEach((size, i) => {
    for (const instanceId of ordered.slice(next, next + size)) targets.push({ instanceId, phase: i + 1 });
    next += size;
  });
  return { phaseCount: sizes.length, targets };
}

/**
 * Canary plan: the instances in {@link stableOrder} for this deployment, split
 * by {@link canaryPhaseSizes}. An empty fleet gives `phaseCount: 0` and no targets.
 */
export function planCanary(instanceIds: readonly string[], deploymentId: string, shares: readonly number[]): Plan {
  const ordered = stableOrder(instanceIds, deploymentId);
  return toPlan(ordered, canaryPhaseSizes(ordered.length, shares));
}

/**
 * Rolling plan: the instances in {@link stableOrder} for this deployment, one
 * phase per batch of {@link rollingBatchSizes}. An empty fleet gives
 * `phaseCount: 0` and no targets.
 */
export function planRolling(
  instanceIds: readonly string[],
  deploymentId: string,
  opts: { batchSize: number | null; batchPercent: number | null },
): Plan {
  const ordered = stableOrder(instanceIds, deploymentId);
  return toPlan(ordered, rollingBatchSizes(ordered.length, opts));
}

/**
 * Blue-green plan: one phase whose targets are the instances of the idle color
 * (sorted by id; duplicates kept once), which is the color that is not active.
 * When no active color is known yet (`null`, the first blue-green deployment of
 * the service and environment) BLUE counts as active, so GREEN is idle.
 * Instances without a color are never targets.
 *
 * @throws BadInputError when no instance has a color, or none has the idle color
 */
export function planBlueGreen(
  instances: ReadonlyArray<{ id: string; color: BlueGreenColor | null }>,
  activeColor: BlueGreenColor | null,
): { plan: Plan; idleColor: BlueGreenColor } {
  const idleColor: BlueGreenColor = activeColor === 'GREEN' ? 'BLUE' : 'GREEN';
  if (instances.length > 0 && instances.every((i) => i.color === null)) {
    throw new BadInputError(
      'no instance of the service has a color: blue-green needs instances registered with color BLUE or GREEN',
    );
  }
  const ids = [...new Set(instances.filter((i) => i.color === idleColor).map((i) => i.id))].sort(compare);
  if (ids.length === 0) {
    throw new BadInputError(
      `no ${idleColor} instances of the service are registered: blue-green needs instances of the idle color`,
    );
  }
  return { plan: { phaseCount: 1, targets: ids.map((instanceId) => ({ instanceId, phase: 1 })) }, idleColor };
}
