import { describe, expect, it } from 'vitest';
import type { PhaseDecision, PhaseOutcome } from '../../../src/domain/lifecycle/judgement.js';
import { summarizeTargets, TargetState } from '../../../src/domain/deployment.js';
import type { HealthPolicy, StrategyOptions } from '../../../src/domain/deployment-model.js';
import { withPolicyDefaults } from '../../../src/domain/health-policy.js';
import { normalizeDeployment } from '../../../src/domain/deployment-input.js';
import { DeploymentStrategy, HealthVerdict } from '../../../src/domain/enums.js';
import { BadInputError } from '../../../src/domain/errors.js';
import type { HealthReport } from '../../../src/domain/health.js';
import { stableOrder } from '../../../src/domain/planning.js';
import { rollingStrategy } from '../../../src/orchestrator/strategies/rolling.js';
import { strategyFor } from '../../../src/orchestrator/strategies/select-strategy.js';
import type { StrategyPlan } from '../../../src/orchestrator/strategies/strategy.js';

function rolling(opts: { batchSize?: number | null; batchPercent?: number | null; intervalSeconds?: number } = {}): StrategyOptions {
  return {
    strategy: DeploymentStrategy.ROLLING,
    rolling: { batchSize: opts.batchSize ?? null, batchPercent: opts.batchPercent ?? null, intervalSeconds: opts.intervalSeconds ?? 0 },
  };
}
/** What normalizeDeployment gives a ROLLING deployment without batch options (the default 25%). */
const DEFAULT_ROLLING = normalizeDeployment({ strategy: DeploymentStrategy.ROLLING, rolling: { intervalSeconds: 1 } }).options;

const POLICY: HealthPolicy = withPolicyDefaults({ maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: null, autoRollback: true });
const NO_AUTO: HealthPolicy = { ...POLICY, autoRollback: false };

const fleet = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r-${String(i).padStart(3, '0')}`, color: null }));

function plan(n: number, options: StrategyOptions, deploymentId = 'dep-r'): StrategyPlan {
  return rollingStrategy.plan({ deploymentId, instances: fleet(n), options, activeColor: null });
}

function sizes(p: StrategyPlan): number[] {
  return Array.from({ length: p.phaseCount }, (_, i) => p.targets.filter((t) => t.phase === i + 1).length);
}

const reasonOf = (d: PhaseDecision): string | null => ('reason' in d ? d.reason : null);

const SNAPSHOT = { errorRate: 0.01, latencyP99Ms: 100, requestCount: 50, custom: null, instances: 3 };
function health(reasons: string[] = []): HealthReport {
  return {
    verdict: reasons.length === 0 ? HealthVerdict.PASS : HealthVerdict.FAIL,
    evidence: { updated: 3, reporting: 3, required: 2, minHeartbeats: 2 },
    healthy: reasons.length === 0,
    baseline: SNAPSHOT,
    current: SNAPSHOT,
    reasons,
    checkedAt: new Date('2025-01-01T00:00:00Z'),
    insufficientData: false,
    metrics: [],
    score: null,
    outliers: [],
  };
}

function outcome(phase: number, phaseCount: number, opts: { failed?: number; report?: HealthReport; overridden?: boolean } = {}): PhaseOutcome {
  const failed = opts.failed ?? 0;
  const states = [...Array<TargetState>(failed).fill(TargetState.FAILED), ...Array<TargetState>(3 - failed).fill(TargetState.APPLIED)];
  return {
    phase,
    phaseCount,
    phaseResult: summarizeTargets(states.map((state) => ({ state }))),
    evidenceDue: true,
    failures: Array.from({ length: failed }, (_, i) => ({ instanceId: `r-${i}`, state: 'FAILED', error: 'bad config' })),
    health: opts.report ?? health(),
    healthOverridden: opts.overridden ?? false,
  };
}

describe('rollingStrategy: shape', () => {
  it('is the strategy selected for ROLLING; judges health, observation "waiting", no traffic switch', () => {
    expect(strategyFor(DeploymentStrategy.ROLLING)).toBe(rollingStrategy);
    expect(rollingStrategy.judgesHealth).toBe(true);
    expect(rollingStrategy.observation).toBe('waiting');
    expect(rollingStrategy.switchesTraffic).toBe(false);
  });
});

describe('rollingStrategy.plan', () => {
  it('batchSize: batches of that size, the last one takes the rest', () => {
    const p = plan(10, rolling({ batchSize: 3 }));
    expect(p.color).toBeNull();
    expect(p.phaseCount).toBe(4);
    expect(sizes(p)).toEqual([3, 3, 3, 1]);
  });

  it('batchPercent: ceil(percent × fleet) per batch', () => {
    expect(sizes(plan(10, rolling({ batchPercent: 40 })))).toEqual([4, 4, 2]);
    expect(sizes(plan(12, rolling({ batchPercent: 50 })))).toEqual([6, 6]);
    expect(sizes(plan(3, rolling({ batchPercent: 10 })))).toEqual([1, 1, 1]);
  });

  it('the default 25% gives four batches of a fleet of 8 and of 12', () => {
    expect(DEFAULT_ROLLING).toEqual(rolling({ batchPercent: 25, intervalSeconds: 1 }));
    expect(sizes(plan(8, DEFAULT_ROLLING))).toEqual([2, 2, 2, 2]);
    expect(sizes(plan(12, DEFAULT_ROLLING))).toEqual([3, 3, 3, 3]);
    expect(sizes(plan(10, DEFAULT_ROLLING))).toEqual([3, 3, 3, 1]);
  });

  it('batchSize wins over batchPercent', () => {
    expect(sizes(plan(10, rolling({ batchSize: 5, batchPercent: 10 })))).toEqual([5, 5]);
  });

  it('a batch at least as big as the fleet is a single phase; an empty fleet has no phase', () => {
    expect(sizes(plan(4, rolling({ batchSize: 10 })))).toEqual([4]);
    expect(sizes(plan(4, rolling({ batchPercent: 100 })))).toEqual([4]);
    expect(plan(0, DEFAULT_ROLLING)).toEqual({ phaseCount: 0, targets: [], color: null });
  });

  it('covers every instance once, in the stable order of the deployment, deterministically', () => {
    const p = plan(11, rolling({ batchSize: 4 }), 'dep-42');
    expect(p.targets.map((t) => t.instanceId)).toEqual(stableOrder(fleet(11).map((i) => i.id), 'dep-42'));
    expect(plan(11, rolling({ batchSize: 4 }), 'dep-42')).toEqual(p);
    const reversed = rollingStrategy.plan({
      deploymentId: 'dep-42',
      instances: [...fleet(11)].reverse(),
      options: rolling({ batchSize: 4 }),
      activeColor: null,
    });
    expect(reversed).toEqual(p);
    expect(plan(11, rolling({ batchSize: 4 }), 'dep-43').targets).not.toEqual(p.targets);
  });

  it('refuses options without batchSize or batchPercent, and invalid ones', () => {
    expect(() => plan(5, rolling())).toThrow(BadInputError);
    expect(() => plan(5, rolling())).toThrow('rolling needs batchSize or batchPercent');
    expect(() => plan(5, rolling({ batchSize: 0 }))).toThrow(BadInputError);
  });

  it('throws on options of another strategy', () => {
    const canary: StrategyOptions = { strategy: DeploymentStrategy.CANARY, canary: { phases: [1], bakeSeconds: 1 } };
    expect(() => rollingStrategy.plan({ deploymentId: 'd', instances: fleet(2), options: canary, activeColor: null })).toThrow(
      'the rolling strategy was given CANARY options',
    );
    expect(() => rollingStrategy.observeSeconds(canary, 1, 3)).toThrow('the rolling strategy was given CANARY options');
  });
});

describe('rollingStrategy.maxInFlight and observeSeconds', () => {
  it('pushes a whole batch at once (at least one)', () => {
    expect(rollingStrategy.maxInFlight(DEFAULT_ROLLING, 3)).toBe(3);
    expect(rollingStrategy.maxInFlight(rolling({ batchSize: 2 }), 2)).toBe(2);
    expect(rollingStrategy.maxInFlight(DEFAULT_ROLLING, 0)).toBe(1);
  });

  it('waits intervalSeconds after every batch, the last one included (its health is judged after it)', () => {
    const options = rolling({ batchSize: 2, intervalSeconds: 9 });
    expect([1, 2, 3, 4].map((phase) => rollingStrategy.observeSeconds(options, phase, 4))).toEqual([9, 9, 9, 9]);
    expect(rollingStrategy.observeSeconds(options, 1, 1)).toBe(9);
  });

  it('an interval of 0 never waits', () => {
    const options = rolling({ batchSize: 1, intervalSeconds: 0 });
    expect([1, 2, 3].map((phase) => rollingStrategy.observeSeconds(options, phase, 3))).toEqual([0, 0, 0]);
  });
});

describe('rollingStrategy.afterPhase', () => {
  it('a healthy batch → next batch; the last healthy batch → complete', () => {
    expect(rollingStrategy.afterPhase(outcome(1, 3), DEFAULT_ROLLING, POLICY)).toEqual({ kind: 'next-phase' });
    expect(rollingStrategy.afterPhase(outcome(2, 3), DEFAULT_ROLLING, POLICY)).toEqual({ kind: 'next-phase' });
    expect(rollingStrategy.afterPhase(outcome(3, 3), DEFAULT_ROLLING, POLICY)).toEqual({ kind: 'complete' });
  });

  it('the first batch with an instance that did not apply → rollback, with the instance named', () => {
    const d = rollingStrategy.afterPhase(outcome(1, 3, { failed: 1 }), DEFAULT_ROLLING, POLICY);
    expect(d).toEqual({ kind: 'rollback', reason: 'phase 1 of 3: 1 of 3 instances did not apply: r-0 (FAILED: bad config)' });
  });

  it('a failing batch without autoRollback → fail', () => {
    const d = rollingStrategy.afterPhase(outcome(2, 3, { failed: 2 }), DEFAULT_ROLLING, NO_AUTO);
    expect(d.kind).toBe('fail');
    expect(reasonOf(d)).toBe('phase 2 of 3: 2 of 3 instances did not apply: r-0 (FAILED: bad config), r-1 (FAILED: bad config)');
  });

  it('degraded health → rollback, or pause without autoRollback; overridden → go on', () => {
    const report = health(['p99 latency 480 ms vs baseline 200 ms: +140% > 50%']);
    const rb = rollingStrategy.afterPhase(outcome(2, 3, { report }), DEFAULT_ROLLING, POLICY);
    expect(rb).toEqual({ kind: 'rollback', reason: 'phase 2 of 3: health degraded: p99 latency 480 ms vs baseline 200 ms: +140% > 50%' });
    const paused = rollingStrategy.afterPhase(outcome(2, 3, { report }), DEFAULT_ROLLING, NO_AUTO);
    expect(paused.kind).toBe('pause');
    expect(reasonOf(paused)).toContain('p99 latency 480 ms vs baseline 200 ms: +140% > 50%');
    expect(rollingStrategy.afterPhase(outcome(2, 3, { report, overridden: true }), DEFAULT_ROLLING, NO_AUTO)).toEqual({
      kind: 'next-phase',
    });
  });
});
