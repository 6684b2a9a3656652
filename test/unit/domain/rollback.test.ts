import { describe, expect, it } from 'vitest';
import { describeDegradation, describeFailures, judgePhase, type PhaseOutcome } from '../../../src/domain/lifecycle/judgement.js';
import { summarizeTargets, TargetState } from '../../../src/domain/deployment.js';
import { type DeploymentRecord, INITIAL_STRATEGY_STATE, type StrategyState,  } from '../../../src/domain/deployment-model.js';
import { type HealthPolicy, withPolicyDefaults } from '../../../src/domain/health-policy.js';
import { Color, DeploymentStatus, DeploymentStrategy, Environment, HealthVerdict } from '../../../src/domain/enums.js';
import { BadInputError, ConflictError, ErrorCode } from '../../../src/domain/errors.js';
import type { HealthReport } from '../../../src/domain/health.js';
import { checkManualRollback, MAX_ROLLBACK_REASON_LENGTH, rollbackStart } from '../../../src/domain/lifecycle/controls.js';

const S = DeploymentStatus;

function deployment(overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  const at = new Date('2025-01-01T00:00:00Z');
  return {
    id: 'dep-1',
    profileId: 'prof-1',
    profileName: 'checkout-prod',
    service: 'checkout',
    environment: Environment.PRODUCTION,
    version: 2,
    previousVersion: 1,
    options: { strategy: DeploymentStrategy.CANARY, canary: { phases: [0.1, 0.3, 0.5, 1], bakeSeconds: 1 } },
    healthPolicy: withPolicyDefaults({ maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: null, autoRollback: true }),
    ackTimeoutSeconds: 5,
    status: S.IN_PROGRESS,
    phase: 2,
    phaseCount: 4,
    state: { ...INITIAL_STRATEGY_STATE },
    rollbackReason: null,
    failureReason: null,
    startedBy: 'user-1',
    traceContext: null,
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
    result: summarizeTargets([]),
    ...overrides,
  };
}

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('checkManualRollback', () => {
  it.each([S.IN_PROGRESS, S.PAUSED, S.COMPLETED])('allows %s and returns the reason', (status) => {
    expect(checkManualRollback(deployment({ status }), 'error spike in checkout')).toBe('error spike in checkout');
  });

  it.each([S.PENDING, S.FAILED, S.ROLLED_BACK, S.ROLLING_BACK, S.CANCELLED])('refuses %s with CONFLICT', (status) => {
    const e = thrown(() => checkManualRollback(deployment({ status }), 'because'));
    expect(e).toBeInstanceOf(ConflictError);
    expect((e as ConflictError).code).toBe(ErrorCode.CONFLICT);
    expect((e as ConflictError).message).toContain(`deployment is ${status}; cannot move to ROLLING_BACK`);
    expect((e as ConflictError).details).toEqual({ from: status, to: S.ROLLING_BACK });
  });

  it('trims the reason', () => {
    expect(checkManualRollback(deployment(), '  \n latency too high\t ')).toBe('latency too high');
  });

  it.each([
    ['empty', ''],
    ['blank', '   \n\t '],
  ])('refuses an %s reason with BAD_USER_INPUT on field "reason"', (_label, reason) => {
    const e = thrown(() => checkManualRollback(deployment(), reason));
    expect(e).toBeInstanceOf(BadInputError);
    expect((e as BadInputError).code).toBe(ErrorCode.BAD_USER_INPUT);
    expect((e as BadInputError).details).toEqual({ field: 'reason' });
  });

  it('accepts exactly 1000 characters and refuses 1001 (after trimming)', () => {
    expect(MAX_ROLLBACK_REASON_LENGTH).toBe(1000);
    const max = 'x'.repeat(1000);
    expect(checkManualRollback(deployment(), `  ${max}  `)).toBe(max);
    const e = thrown(() => checkManualRollback(deployment(), 'x'.repeat(1001)));
    expect(e).toBeInstanceOf(BadInputError);
    expect((e as BadInputError).details).toEqual({ field: 'reason' });
    expect((e as BadInputError).message).toBe('reason must be at most 1000 characters');
  });

  it('refuses a deployment without a previous version (first of its profile) with BAD_USER_INPUT', () => {
    const e = thrown(() => checkManualRollback(deployment({ previousVersion: null, version: 1, status: S.COMPLETED }), 'oops'));
    expect(e).toBeInstanceOf(BadInputError);
    expect((e as BadInputError).code).toBe(ErrorCode.BAD_USER_INPUT);
    expect((e as BadInputError).message).toContain('no previous version to roll back to');
    expect((e as BadInputError).message).toContain('"checkout-prod"');
  });

  it('a terminal deployment without previous version is a CONFLICT, not BAD_USER_INPUT', () => {
    const e = thrown(() => checkManualRollback(deployment({ status: S.ROLLED_BACK, previousVersion: null }), 'why'));
    expect(e).toBeInstanceOf(ConflictError);
  });
});

describe('rollbackStart', () => {
  const busy: StrategyState = {
    stage: 'OBSERVE',
    observeUntil: '2025-01-01T00:01:00.000Z',
    baseline: { errorRate: 0.01, latencyP99Ms: 100, requestCount: 10, custom: null, instances: 3 },
    healthOverridden: true,
    color: Color.GREEN,
    previousColor: Color.BLUE,
    switched: true,
    rollbackPushed: true,
    rollbackFrom: null,
    phaseTrace: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    rollbackTrace: '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01',
  };

  it('from IN_PROGRESS: ROLLING_BACK with the reason, ROLLOUT stage, nothing pushed yet, finished untouched', () => {
    const next = rollbackStart(deployment({ status: S.IN_PROGRESS, state: busy }), 'phase 2 of 4: health degraded');
    expect(next).toEqual({
      status: S.ROLLING_BACK,
      rollbackReason: 'phase 2 of 4: health degraded',
      // A new rollback gets a span of its own; the phase's trace is kept.
      state: { ...busy, stage: 'ROLLOUT', observeUntil: null, rollbackPushed: false, rollbackFrom: S.IN_PROGRESS, rollbackTrace: null },
    });
    expect(next).not.toHaveProperty('finished');
  });

  it('keeps the baseline, override and blue-green fields of the state', () => {
    const { state } = rollbackStart(deployment({ status: S.PAUSED, state: busy }), 'manual');
    expect(state).toMatchObject({ baseline: busy.baseline, color: Color.GREEN, previousColor: Color.BLUE, switched: true, healthOverridden: true });
    expect(state.rollbackFrom).toBe(S.PAUSED);
  });

  it('from COMPLETED: finished is reset to false', () => {
    const next = rollbackStart(deployment({ status: S.COMPLETED, state: busy }), 'manual');
    expect(next.finished).toBe(false);
    expect(next.state.rollbackFrom).toBe(S.COMPLETED);
    expect(next.status).toBe(S.ROLLING_BACK);
  });

  it('does not change the deployment it is given', () => {
    const d = deployment({ state: { ...busy } });
    rollbackStart(d, 'x');
    expect(d.state).toEqual(busy);
    expect(d.status).toBe(S.IN_PROGRESS);
  });
});

const POLICY: HealthPolicy = withPolicyDefaults({ maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: null, autoRollback: true });
const SNAPSHOT = { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100, custom: null, instances: 1 };
const report = (reasons: string[], insufficientData = false): HealthReport => ({
  verdict: insufficientData ? HealthVerdict.INCONCLUSIVE : reasons.length === 0 ? HealthVerdict.PASS : HealthVerdict.FAIL,
  evidence: { updated: 1, reporting: insufficientData ? 0 : 1, required: 1, minHeartbeats: 2 },
  healthy: reasons.length === 0,
  baseline: SNAPSHOT,
  current: SNAPSHOT,
  reasons,
  checkedAt: new Date(0),
  insufficientData,
  metrics: [],
  score: null,
  outliers: [],
});

function outcome(states: TargetState[], failures: PhaseOutcome['failures'], extra: Partial<PhaseOutcome> = {}): PhaseOutcome {
  return {
    phase: 1,
    phaseCount: 3,
    phaseResult: summarizeTargets(states.map((state) => ({ state }))),
    evidenceDue: true,
    failures,
    health: report([]),
    healthOverridden: false,
    ...extra,
  };
}

describe('describeFailures', () => {
  it('lists each failure with state and error, and counts the ones not listed', () => {
    const o = outcome([TargetState.FAILED, TargetState.TIMED_OUT, TargetState.TIMED_OUT, TargetState.APPLIED], [
      { instanceId: 'i-1', state: 'FAILED', error: 'schema mismatch' },
      { instanceId: 'i-2', state: 'TIMED_OUT', error: null },
    ]);
    expect(describeFailures(o)).toBe('3 of 4 instances did not apply: i-1 (FAILED: schema mismatch), i-2 (TIMED_OUT), and 1 more');
  });

  it('takes another verb', () => {
    const o = outcome([TargetState.FAILED, TargetState.APPLIED], [{ instanceId: 'i-9', state: 'FAILED', error: 'nack' }]);
    expect(describeFailures(o, 'did not roll back')).toBe('1 of 2 instances did not roll back: i-9 (FAILED: nack)');
  });
});

describe('describeDegradation', () => {
  it('joins the reasons after "health degraded: "', () => {
    expect(describeDegradation(report(['a > b', 'p99 latency 480 ms vs baseline 200 ms: +140% > 50%']))).toBe(
      'health degraded: a > b; p99 latency 480 ms vs baseline 200 ms: +140% > 50%',
    );
  });
});

describe('judgePhase', () => {
  const ok = [TargetState.APPLIED, TargetState.APPLIED];

  it('promotes a healthy phase and completes the last one', () => {
    expect(judgePhase(outcome(ok, []), POLICY)).toEqual({ kind: 'next-phase' });
    expect(judgePhase(outcome(ok, [], { phase: 3 }), POLICY)).toEqual({ kind: 'complete' });
  });

  it('rolls back (or fails without autoRollback) when an instance timed out', () => {
    const o = outcome([TargetState.APPLIED, TargetState.TIMED_OUT], [{ instanceId: 'i-2', state: 'TIMED_OUT', error: 'no ack within 5 s' }]);
    const reason = 'phase 1 of 3: 1 of 2 instances did not apply: i-2 (TIMED_OUT: no ack within 5 s)';
    expect(judgePhase(o, POLICY)).toEqual({ kind: 'rollback', reason });
    expect(judgePhase(o, { ...POLICY, autoRollback: false })).toEqual({ kind: 'fail', reason });
  });

  it('degraded health: rollback, pause without autoRollback, promote once overridden', () => {
    const o = outcome(ok, [], { phase: 2, health: report(['error rate 30.0% vs baseline 1.0%: +29.0 points > 5.0']) });
    const reason = 'phase 2 of 3: health degraded: error rate 30.0% vs baseline 1.0%: +29.0 points > 5.0';
    expect(judgePhase(o, POLICY)).toEqual({ kind: 'rollback', reason });
    expect(judgePhase(o, { ...POLICY, autoRollback: false })).toEqual({
      kind: 'pause',
      reason: `${reason}; autoRollback is off: resume to go on, or roll back`,
    });
    expect(judgePhase({ ...o, healthOverridden: true }, POLICY)).toEqual({ kind: 'next-phase' });
  });

  it('insufficient data keeps observing, then pauses; a strategy that judges no health promotes', () => {
    expect(judgePhase(outcome(ok, [], { health: report([], true), evidenceDue: false }), POLICY)).toEqual({ kind: 'observe' });
    expect(judgePhase(outcome(ok, [], { health: report([], true) }), POLICY)).toMatchObject({ kind: 'pause', inconclusive: true });
    expect(judgePhase(outcome(ok, [], { health: report([], true) }), { ...POLICY, autoRollback: false })).toMatchObject({ kind: 'pause', inconclusive: true });
    expect(judgePhase(outcome(ok, [], { health: null, phase: 3 }), POLICY)).toEqual({ kind: 'complete' });
  });
});
