import { describe, expect, it } from 'vitest';
import type { PhaseDecision, PhaseOutcome } from '../../../src/domain/lifecycle/judgement.js';
import { summarizeTargets, TargetState } from '../../../src/domain/deployment.js';
import type { HealthPolicy, StrategyOptions } from '../../../src/domain/deployment-model.js';
import { withPolicyDefaults } from '../../../src/domain/health-policy.js';
import { Color, DeploymentStrategy, HealthVerdict, InconclusiveAction } from '../../../src/domain/enums.js';
import type { HealthReport } from '../../../src/domain/health.js';
import { canaryStrategy } from '../../../src/orchestrator/strategies/canary.js';
import { strategyFor } from '../../../src/orchestrator/strategies/select-strategy.js';
import type { StrategyPlan } from '../../../src/orchestrator/strategies/strategy.js';

const DEFAULT_PHASES = [0.1, 0.3, 0.5, 1.0];

function canary(phases = DEFAULT_PHASES, bakeSeconds = 1): StrategyOptions {
  return { strategy: DeploymentStrategy.CANARY, canary: { phases, bakeSeconds } };
}

const POLICY: HealthPolicy = withPolicyDefaults({ maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: null, autoRollback: true });
const NO_AUTO: HealthPolicy = { ...POLICY, autoRollback: false };

const fleet = (n: number, color: Color | null = null) =>
  Array.from({ length: n }, (_, i) => ({ id: `inst-${String(i).padStart(4, '0')}`, color }));

function plan(n: number, deploymentId = 'dep-1', options = canary()): StrategyPlan {
  return canaryStrategy.plan({ deploymentId, instances: fleet(n), options, activeColor: null });
}

function sizes(p: StrategyPlan): number[] {
  return Array.from({ length: p.phaseCount }, (_, i) => p.targets.filter((t) => t.phase === i + 1).length);
}

const SNAPSHOT = { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100, custom: null, instances: 2 };

function report(partial: Partial<HealthReport> = {}): HealthReport {
  const reasons = partial.reasons ?? [];
  const verdict = partial.insufficientData ? HealthVerdict.INCONCLUSIVE : reasons.length === 0 ? HealthVerdict.PASS : HealthVerdict.FAIL;
  return {
    verdict,
    healthy: verdict === HealthVerdict.PASS,
    evidence: { updated: 2, reporting: partial.insufficientData ? 0 : 2, required: 1, minHeartbeats: 2 },
    baseline: SNAPSHOT,
    current: SNAPSHOT,
    reasons,
    checkedAt: new Date('2025-01-01T00:00:00Z'),
    insufficientData: false,
    metrics: [],
    score: null,
    outliers: [],
    ...partial,
  };
}

const reasonOf = (d: PhaseDecision): string | null => ('reason' in d ? d.reason : null);

const DEGRADED = report({ reasons: ['error rate 30.0% vs baseline 1.0%: +29.0 points > 5.0'] });

/** A phase of `size` targets, `failures` of them FAILED/TIMED_OUT. */
function outcome(
  phase: number,
  phaseCount: number,
  opts: { health?: HealthReport | null; failed?: number; timedOut?: number; size?: number; healthOverridden?: boolean } = {},
): PhaseOutcome {
  const failed = opts.failed ?? 0;
  const timedOut = opts.timedOut ?? 0;
  const size = opts.size ?? 4;
  const states = [
    ...Array<TargetState>(failed).fill(TargetState.FAILED),
    ...Array<TargetState>(timedOut).fill(TargetState.TIMED_OUT),
    ...Array<TargetState>(size - failed - timedOut).fill(TargetState.APPLIED),
  ];
  const failures = [
    ...Array.from({ length: failed }, (_, i) => ({ instanceId: `f-${i}`, state: 'FAILED', error: 'invalid config' })),
    ...Array.from({ length: timedOut }, (_, i) => ({ instanceId: `t-${i}`, state: 'TIMED_OUT', error: 'no ack within 5 s' })),
  ];
  return {
    phase,
    phaseCount,
    phaseResult: summarizeTargets(states.map((state) => ({ state }))),
    evidenceDue: true,
    failures,
    health: opts.health === undefined ? report() : opts.health,
    healthOverridden: opts.healthOverridden ?? false,
  };
}

describe('canaryStrategy: shape', () => {
  it('is the strategy selected for CANARY, judges health, bakes, and never switches traffic', () => {
    expect(strategyFor(DeploymentStrategy.CANARY)).toBe(canaryStrategy);
    expect(canaryStrategy.judgesHealth).toBe(true);
    expect(canaryStrategy.switchesTraffic).toBe(false);
    expect(canaryStrategy.observation).toBe('baking');
  });
});

describe('canaryStrategy.plan', () => {
  it.each([
    [0, []],
    [1, [1]],
    [2, [1, 1]],
    [3, [1, 1, 1]],
    [10, [1, 2, 2, 5]],
    [1000, [100, 200, 200, 500]],
  ])('fleet of %i with the default phases → phase sizes %j, every instance once, no color', (n, expected) => {
    const p = plan(n);
    expect(p.color).toBeNull();
    expect(p.phaseCount).toBe(expected.length);
    expect(sizes(p)).toEqual(expected);
    expect(p.targets.map((t) => t.instanceId).sort()).toEqual(fleet(n).map((i) => i.id));
    // each phase takes at least one new instance
    for (const size of sizes(p)) expect(size).toBeGreaterThanOrEqual(1);
  });

  it('an empty fleet has phaseCount 0 and no targets', () => {
    expect(plan(0)).toEqual({ phaseCount: 0, targets: [], color: null });
  });

  it('is deterministic across calls and regardless of the input order', () => {
    const first = plan(10, 'dep-x');
    expect(plan(10, 'dep-x')).toEqual(first);
    const reversed = canaryStrategy.plan({
      deploymentId: 'dep-x',
      instances: [...fleet(10)].reverse(),
      options: canary(),
      activeColor: null,
    });
    expect(reversed).toEqual(first);
  });

  it('picks different canaries for different deployment ids', () => {
    const firstPhase = (id: string) => plan(100, id).targets.filter((t) => t.phase === 1).map((t) => t.instanceId);
    expect(firstPhase('dep-a')).toHaveLength(10);
    expect(firstPhase('dep-b')).toHaveLength(10);
    expect(firstPhase('dep-a')).not.toEqual(firstPhase('dep-b'));
  });

  it('uses custom phases from the options', () => {
    expect(sizes(plan(10, 'dep-1', canary([0.2, 0.6, 1])))).toEqual([2, 4, 4]);
    expect(sizes(plan(10, 'dep-1', canary([1])))).toEqual([10]);
    expect(sizes(plan(3, 'dep-1', canary([0.5, 1])))).toEqual([2, 1]);
  });

  it('ignores colors and the active color', () => {
    const colored = canaryStrategy.plan({
      deploymentId: 'dep-1',
      instances: fleet(10, Color.BLUE),
      options: canary(),
      activeColor: Color.BLUE,
    });
    expect(colored).toEqual(plan(10));
  });

  it('throws when given options of another strategy', () => {
    const rolling: StrategyOptions = {
      strategy: DeploymentStrategy.ROLLING,
      rolling: { batchSize: 2, batchPercent: null, intervalSeconds: 0 },
    };
    expect(() => canaryStrategy.plan({ deploymentId: 'd', instances: fleet(3), options: rolling, activeColor: null })).toThrow(
      'the canary strategy was given ROLLING options',
    );
    const direct: StrategyOptions = { strategy: DeploymentStrategy.DIRECT, direct: { maxConcurrency: 5 } };
    expect(() => canaryStrategy.observeSeconds(direct, 1, 2)).toThrow('the canary strategy was given DIRECT options');
  });
});

describe('canaryStrategy.maxInFlight and observeSeconds', () => {
  it('pushes a whole phase at once, at least one', () => {
    expect(canaryStrategy.maxInFlight(canary(), 1)).toBe(1);
    expect(canaryStrategy.maxInFlight(canary(), 7)).toBe(7);
    expect(canaryStrategy.maxInFlight(canary(), 500)).toBe(500);
    expect(canaryStrategy.maxInFlight(canary(), 0)).toBe(1);
  });

  it('bakes bakeSeconds after every phase, the last one included', () => {
    const options = canary(DEFAULT_PHASES, 7);
    expect([1, 2, 3, 4].map((phase) => canaryStrategy.observeSeconds(options, phase, 4))).toEqual([7, 7, 7, 7]);
    expect(canaryStrategy.observeSeconds(canary([1], 0), 1, 1)).toBe(0);
  });
});

describe('canaryStrategy.afterPhase', () => {
  it('healthy: next phase before the last, complete on the last', () => {
    expect(canaryStrategy.afterPhase(outcome(1, 4), canary(), POLICY)).toEqual({ kind: 'next-phase' });
    expect(canaryStrategy.afterPhase(outcome(3, 4), canary(), POLICY)).toEqual({ kind: 'next-phase' });
    expect(canaryStrategy.afterPhase(outcome(4, 4), canary(), POLICY)).toEqual({ kind: 'complete' });
    expect(canaryStrategy.afterPhase(outcome(1, 1), canary(), POLICY)).toEqual({ kind: 'complete' });
  });

  it('an instance that did not apply → rollback with autoRollback, naming phase and instance', () => {
    const d = canaryStrategy.afterPhase(outcome(2, 4, { failed: 1 }), canary(), POLICY);
    expect(d).toEqual({ kind: 'rollback', reason: 'phase 2 of 4: 1 of 4 instances did not apply: f-0 (FAILED: invalid config)' });
  });

  it('an ack timeout → rollback too, even on the last phase and with healthy metrics', () => {
    const d = canaryStrategy.afterPhase(outcome(4, 4, { timedOut: 2 }), canary(), POLICY);
    expect(d.kind).toBe('rollback');
    expect(reasonOf(d)).toBe(
      'phase 4 of 4: 2 of 4 instances did not apply: t-0 (TIMED_OUT: no ack within 5 s), t-1 (TIMED_OUT: no ack within 5 s)',
    );
  });

  it('an ack failure without autoRollback → fail (not pause)', () => {
    const d = canaryStrategy.afterPhase(outcome(1, 4, { failed: 1 }), canary(), NO_AUTO);
    expect(d).toEqual({ kind: 'fail', reason: 'phase 1 of 4: 1 of 4 instances did not apply: f-0 (FAILED: invalid config)' });
  });

  it('ack failures win over a health override', () => {
    const d = canaryStrategy.afterPhase(outcome(1, 4, { failed: 1, health: DEGRADED, healthOverridden: true }), canary(), POLICY);
    expect(d.kind).toBe('rollback');
  });

  it('degraded health → rollback with autoRollback; the reason carries the health reasons', () => {
    const d = canaryStrategy.afterPhase(outcome(2, 4, { health: DEGRADED }), canary(), POLICY);
    expect(d).toEqual({
      kind: 'rollback',
      reason: 'phase 2 of 4: health degraded: error rate 30.0% vs baseline 1.0%: +29.0 points > 5.0',
    });
  });

  it('degraded health on the last phase is not completed', () => {
    expect(canaryStrategy.afterPhase(outcome(4, 4, { health: DEGRADED }), canary(), POLICY).kind).toBe('rollback');
  });

  it('degraded health without autoRollback → pause, telling the operator what to do', () => {
    const d = canaryStrategy.afterPhase(outcome(1, 4, { health: DEGRADED }), canary(), NO_AUTO);
    expect(d).toEqual({
      kind: 'pause',
      reason:
        'phase 1 of 4: health degraded: error rate 30.0% vs baseline 1.0%: +29.0 points > 5.0; autoRollback is off: resume to go on, or roll back',
    });
  });

  it('joins several health reasons with "; "', () => {
    const health = report({
      reasons: ['error rate 30.0% vs baseline 1.0%: +29.0 points > 5.0', 'p99 latency 480 ms vs baseline 200 ms: +140% > 50%'],
    });
    const d = canaryStrategy.afterPhase(outcome(3, 4, { health }), canary(), POLICY);
    expect(d.kind).toBe('rollback');
    expect(reasonOf(d)).toBe(
      'phase 3 of 4: health degraded: error rate 30.0% vs baseline 1.0%: +29.0 points > 5.0; p99 latency 480 ms vs baseline 200 ms: +140% > 50%',
    );
  });

  it('healthOverridden (resumed by an operator) promotes despite degraded health', () => {
    expect(canaryStrategy.afterPhase(outcome(2, 4, { health: DEGRADED, healthOverridden: true }), canary(), NO_AUTO)).toEqual({
      kind: 'next-phase',
    });
    expect(canaryStrategy.afterPhase(outcome(4, 4, { health: DEGRADED, healthOverridden: true }), canary(), POLICY)).toEqual({
      kind: 'complete',
    });
  });

  it('insufficient data never promotes: it observes until the evidence bound, then pauses for an operator', () => {
    const health = report({ insufficientData: true, reasons: ['not enough evidence: 0 of 4 updated instances sent 2 heartbeats with metrics since applying (2 needed)'] });
    const early = { ...outcome(1, 4, { health }), evidenceDue: false };
    expect(canaryStrategy.afterPhase(early, canary(), POLICY)).toEqual({ kind: 'observe' });
    expect(canaryStrategy.afterPhase(outcome(1, 4, { health }), canary(), POLICY)).toEqual({
      kind: 'pause',
      inconclusive: true,
      reason:
        'phase 1 of 4: health inconclusive: not enough evidence: 0 of 4 updated instances sent 2 heartbeats with metrics since applying (2 needed); ' +
        'resume to promote it as it is, or roll back',
    });
    expect(canaryStrategy.afterPhase(outcome(4, 4, { health }), canary(), NO_AUTO).kind).toBe('pause');
  });

  it('insufficient data promotes only when the policy says PROMOTE, or an operator resumed the phase', () => {
    const health = report({ insufficientData: true, reasons: ['not enough evidence'] });
    const promote = { ...POLICY, onInconclusive: InconclusiveAction.PROMOTE };
    expect(canaryStrategy.afterPhase({ ...outcome(1, 4, { health }), evidenceDue: false }, canary(), promote)).toEqual({ kind: 'observe' });
    expect(canaryStrategy.afterPhase(outcome(1, 4, { health }), canary(), promote)).toEqual({ kind: 'next-phase' });
    expect(canaryStrategy.afterPhase(outcome(4, 4, { health }), canary(), promote)).toEqual({ kind: 'complete' });
    expect(canaryStrategy.afterPhase(outcome(1, 4, { health, healthOverridden: true }), canary(), POLICY)).toEqual({ kind: 'next-phase' });
  });

  it('no health report at all promotes', () => {
    expect(canaryStrategy.afterPhase(outcome(1, 2, { health: null }), canary(), POLICY)).toEqual({ kind: 'next-phase' });
  });
});
