import { describe, expect, it } from 'vitest';
import { summarizeCounts, TargetState } from '../../../../src/domain/deployment.js';
import { type StrategyOptions } from '../../../../src/domain/deployment-model.js';
import { type HealthPolicy, withPolicyDefaults } from '../../../../src/domain/health-policy.js';
import { Color, DeploymentStatus as S, HealthVerdict, InconclusiveAction } from '../../../../src/domain/enums.js';
import type { HealthReport } from '../../../../src/domain/health.js';
import { EMPTY_SNAPSHOT } from '../../../../src/domain/health-snapshot.js';
import { decide, EVIDENCE_POLL_MS, PAUSED_WAIT_MS, type StepView, type TargetCounts } from '../../../../src/domain/lifecycle/decide.js';
import type { PhaseStage } from '../../../../src/domain/lifecycle/stage.js';
import { blueGreenStrategy } from '../../../../src/orchestrator/strategies/blue-green.js';
import { canaryStrategy } from '../../../../src/orchestrator/strategies/canary.js';
import { directStrategy } from '../../../../src/orchestrator/strategies/direct.js';
import { rollingStrategy } from '../../../../src/orchestrator/strategies/rolling.js';

/** The clock every view is read at: decide takes time only from the view. */
const NOW = Date.parse('2026-01-01T00:00:00Z');
const POLICY: HealthPolicy = withPolicyDefaults({ maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: null, autoRollback: true });
const NO_AUTO: HealthPolicy = { ...POLICY, autoRollback: false };
const CANARY: StrategyOptions = { strategy: 'CANARY', canary: { phases: [0.1, 0.3, 0.5, 1], bakeSeconds: 30 } } as StrategyOptions;
const ROLLING: StrategyOptions = { strategy: 'ROLLING', rolling: { batchSize: 2, batchPercent: null, intervalSeconds: 10 } } as StrategyOptions;
const BLUE_GREEN: StrategyOptions = { strategy: 'BLUE_GREEN', blueGreen: { verifySeconds: 20 } } as StrategyOptions;
const DIRECT: StrategyOptions = { strategy: 'DIRECT', direct: { maxConcurrency: 3 } } as StrategyOptions;

function counts(states: Partial<Record<TargetState, number>>): TargetCounts {
  return { ...summarizeCounts(states), inFlight: states[TargetState.PUSHED] ?? 0 };
}

function report(verdict: HealthVerdict, reasons: string[] = []): HealthReport {
  return {
    verdict,
    healthy: verdict === HealthVerdict.PASS,
    baseline: EMPTY_SNAPSHOT,
    current: EMPTY_SNAPSHOT,
    reasons,
    checkedAt: new Date(NOW),
    insufficientData: verdict === HealthVerdict.INCONCLUSIVE,
    metrics: [],
    score: null,
    outliers: [],
    evidence: { updated: 2, reporting: verdict === HealthVerdict.INCONCLUSIVE ? 0 : 2, required: 1, minHeartbeats: 2 },
  };
}
const PASS = report(HealthVerdict.PASS);
const FAIL = report(HealthVerdict.FAIL, ['error rate 9% vs baseline 1%: +8 points > 5 points']);
const INCONCLUSIVE = report(HealthVerdict.INCONCLUSIVE, ['1 of 2 updated instances reported 2 heartbeats since applying']);

const rollout = (healthAccepted = false): PhaseStage => ({ kind: 'ROLLOUT', healthAccepted });
const observing = (until: number, healthAccepted = false): PhaseStage => ({ kind: 'OBSERVE', until, healthAccepted });

function view(overrides: Partial<StepView> = {}): StepView {
  return {
    status: S.IN_PROGRESS,
    phase: 1,
    phaseCount: 4,
    stage: rollout(),
    now: NOW,
    strategy: canaryStrategy,
    options: CANARY,
    policy: POLICY,
    version: 2,
    previousVersion: 1,
    rollbackReason: null,
    traffic: { color: null, previousColor: null, switched: false },
    evidenceTimeoutMs: 60_000,
    ...overrides,
  };
}

/** A phase whose observation is over, judged with `health` (and `failed` targets). */
function judged(overrides: Partial<StepView>, health: HealthReport | null, failed = 0): StepView {
  const phaseResult = summarizeCounts({ [TargetState.APPLIED]: 4 - failed, [TargetState.FAILED]: failed });
  const failures = Array.from({ length: failed }, (_, i) => ({ instanceId: `i-${i}`, state: 'FAILED', error: 'bad config' }));
  return view({ stage: observing(NOW - 1), ...overrides, outcome: { phaseResult, failures, health } });
}

describe('decide: the statuses that run nothing', () => {
  it('PENDING starts the first phase', () => {
    expect(decide(view({ status: S.PENDING, phase: 0 }))).toEqual({ kind: 'start' });
  });

  it('PAUSED waits for an operator (resume and rollback wake it at once)', () => {
    expect(decide(view({ status: S.PAUSED }))).toEqual({ kind: 'wait', ms: PAUSED_WAIT_MS });
  });

  it.each([S.COMPLETED, S.FAILED, S.ROLLED_BACK, S.CANCELLED])('%s has nothing left to run', (status) => {
    expect(decide(view({ status }))).toEqual({ kind: 'done' });
  });
});

describe('decide: rolling a phase out', () => {
  it('pushes all the room at once: a canary phase has no in-flight limit', () => {
    expect(decide(view({ counts: counts({ [TargetState.PENDING]: 5 }) }))).toEqual({ kind: 'push', count: 5 });
  });

  it('DIRECT keeps at most maxConcurrency awaiting an ack', () => {
    const v = view({ strategy: directStrategy, options: DIRECT, phaseCount: 1 });
    expect(decide({ ...v, counts: counts({ [TargetState.PENDING]: 10 }) })).toEqual({ kind: 'push', count: 3 });
    expect(decide({ ...v, counts: counts({ [TargetState.PENDING]: 8, [TargetState.PUSHED]: 1, [TargetState.APPLIED]: 1 }) })).toEqual({ kind: 'push', count: 2 });
    expect(decide({ ...v, counts: counts({ [TargetState.PENDING]: 7, [TargetState.PUSHED]: 3 }) })).toEqual({ kind: 'await-acks' });
  });

  it('waits for acks while any push of the phase awaits one', () => {
    expect(decide(view({ counts: counts({ [TargetState.PUSHED]: 1, [TargetState.APPLIED]: 3 }) }))).toEqual({ kind: 'await-acks' });
  });

  it('once every target answered, observes for the strategy\'s time: bake, interval (the last batch too), verify', () => {
    const answered = counts({ [TargetState.APPLIED]: 4, [TargetState.LEFT]: 1 });
    expect(decide(view({ counts: answered }))).toEqual({ kind: 'observe', until: NOW + 30_000, seconds: 30 });
    expect(decide(view({ counts: answered, strategy: rollingStrategy, options: ROLLING, phase: 3, phaseCount: 3 }))).toEqual({
      kind: 'observe', until: NOW + 10_000, seconds: 10,
    });
    expect(decide(view({ counts: answered, strategy: blueGreenStrategy, options: BLUE_GREEN, phaseCount: 1 }))).toEqual({
      kind: 'observe', until: NOW + 20_000, seconds: 20,
    });
    expect(decide(view({ counts: answered, strategy: directStrategy, options: DIRECT, phaseCount: 1 }))).toEqual({ kind: 'observe', until: NOW, seconds: 0 });
  });

  it('a phase with a failed or timed-out ack is judged at once, without observing', () => {
    expect(decide(view({ counts: counts({ [TargetState.APPLIED]: 3, [TargetState.FAILED]: 1 }) }))).toEqual({ kind: 'observe', until: NOW, seconds: 0 });
    expect(decide(view({ counts: counts({ [TargetState.APPLIED]: 3, [TargetState.TIMED_OUT]: 1 }) }))).toEqual({ kind: 'observe', until: NOW, seconds: 0 });
  });
});

describe('decide: observing and judging a phase', () => {
  it('waits out the observation, then asks for the outcome', () => {
    expect(decide(view({ stage: observing(NOW + 12_000) }))).toEqual({ kind: 'wait', ms: 12_000 });
    expect(decide(view({ stage: observing(NOW) }))).toEqual({ kind: 'judge' });
  });

  it('PASS promotes to the next phase, and completes after the last', () => {
    expect(decide(judged({ phase: 1 }, PASS))).toEqual({ kind: 'next-phase' });
    expect(decide(judged({ phase: 4 }, PASS))).toEqual({ kind: 'complete', switchTo: null });
  });

  it('FAIL rolls back, or with autoRollback off pauses for an operator', () => {
    expect(decide(judged({ phase: 2 }, FAIL))).toEqual({
      kind: 'rollback',
      reason: 'phase 2 of 4: health degraded: error rate 9% vs baseline 1%: +8 points > 5 points',
    });
    expect(decide(judged({ phase: 2, policy: NO_AUTO }, FAIL))).toMatchObject({ kind: 'pause', reason: expect.stringContaining('autoRollback is off') });
  });

  it('a failed ack rolls back, or with autoRollback off fails the deployment; DIRECT always fails', () => {
    expect(decide(judged({}, null, 1))).toMatchObject({ kind: 'rollback', reason: expect.stringMatching(/^phase 1 of 4: 1 of 4 instances did not apply: i-0 \(FAILED: bad config\)/) });
    expect(decide(judged({ policy: NO_AUTO }, null, 1))).toMatchObject({ kind: 'fail' });
    expect(decide(judged({ strategy: directStrategy, options: DIRECT, phaseCount: 1 }, null, 2))).toMatchObject({ kind: 'fail', reason: expect.stringMatching(/^2 of 4 instances did not apply/) });
  });

  it('INCONCLUSIVE keeps observing until the evidence bound, polling, then pauses for an operator', () => {
    const ended = NOW - 10_000;
    expect(decide(judged({ stage: observing(ended) }, INCONCLUSIVE))).toEqual({ kind: 'wait', ms: EVIDENCE_POLL_MS });
    // The last poll ends at the bound exactly.
    expect(decide(judged({ stage: observing(ended), evidenceTimeoutMs: 10_400 }, INCONCLUSIVE))).toEqual({ kind: 'wait', ms: 400 });
    expect(decide(judged({ stage: observing(ended), evidenceTimeoutMs: 10_000 }, INCONCLUSIVE))).toMatchObject({
      kind: 'pause',
      inconclusive: true,
      reason: expect.stringContaining('health inconclusive'),
    });
  });

  it('INCONCLUSIVE past the bound goes on only when the policy says PROMOTE', () => {
    const promote = { ...POLICY, onInconclusive: InconclusiveAction.PROMOTE };
    expect(decide(judged({ stage: observing(NOW - 61_000), policy: promote }, INCONCLUSIVE))).toEqual({ kind: 'next-phase' });
  });

  it('a phase an operator resumed after it paused on its health goes on whatever its health says', () => {
    expect(decide(judged({ stage: observing(NOW - 1, true), policy: NO_AUTO }, FAIL))).toEqual({ kind: 'next-phase' });
    expect(decide(judged({ stage: observing(NOW - 1, true) }, INCONCLUSIVE))).toEqual({ kind: 'next-phase' });
    // Its failed acks are not accepted with it.
    expect(decide(judged({ stage: observing(NOW - 1, true) }, null, 1))).toMatchObject({ kind: 'rollback' });
  });

  it('blue-green completes by switching traffic to its color', () => {
    const bg = { strategy: blueGreenStrategy, options: BLUE_GREEN, phaseCount: 1, traffic: { color: Color.GREEN, previousColor: Color.BLUE, switched: false } };
    expect(decide(judged(bg, PASS))).toEqual({ kind: 'complete', switchTo: Color.GREEN });
  });
});

describe('decide: rolling back', () => {
  const rollingBack = (stage: PhaseStage, overrides: Partial<StepView> = {}) =>
    view({ status: S.ROLLING_BACK, stage, rollbackReason: 'phase 2 of 4: health degraded', ...overrides });
  const started: PhaseStage = { kind: 'ROLLBACK', from: S.IN_PROGRESS, pushed: false };
  const pushed: PhaseStage = { kind: 'ROLLBACK', from: S.IN_PROGRESS, pushed: true };

  it('first pushes the previous version to the targets that got the new one', () => {
    expect(decide(rollingBack(started, { counts: counts({ [TargetState.APPLIED]: 2, [TargetState.PENDING]: 6 }) }))).toEqual({ kind: 'restore', version: 1 });
  });

  it('then waits for those acks, and ends ROLLED_BACK or, naming what did not come back, FAILED', () => {
    expect(decide(rollingBack(pushed, { counts: counts({ [TargetState.PUSHED]: 1, [TargetState.ROLLED_BACK]: 1 }) }))).toEqual({ kind: 'await-acks' });
    expect(decide(rollingBack(pushed, { counts: counts({ [TargetState.TIMED_OUT]: 1, [TargetState.ROLLED_BACK]: 1 }) }))).toEqual({ kind: 'rollback-incomplete', version: 1 });
    expect(decide(rollingBack(pushed, { counts: counts({ [TargetState.ROLLED_BACK]: 2, [TargetState.LEFT]: 1, [TargetState.PENDING]: 5 }) }))).toEqual({
      kind: 'rolled-back', version: 1, color: null, fromCompleted: false,
    });
  });

  it('after a COMPLETED deployment, the instances that joined meanwhile get the previous version too', () => {
    const fromCompleted: PhaseStage = { kind: 'ROLLBACK', from: S.COMPLETED, pushed: true };
    expect(decide(rollingBack(fromCompleted, { counts: counts({ [TargetState.ROLLED_BACK]: 8 }) }))).toMatchObject({ kind: 'rolled-back', fromCompleted: true });
  });

  it('with no previous version there is nothing to restore: FAILED, saying so', () => {
    expect(decide(rollingBack(started, { previousVersion: null, version: 1 }))).toEqual({
      kind: 'fail',
      reason: "phase 2 of 4: health degraded; version 1 was the profile's first active version, so there is no previous version to restore: the updated instances keep it",
    });
  });

  it('blue-green: after the switch, switching back; before it, restoring the idle color', () => {
    const bg = { strategy: blueGreenStrategy, options: BLUE_GREEN, phaseCount: 1 };
    const switched = { color: Color.GREEN, previousColor: Color.BLUE, switched: true };
    expect(decide(rollingBack(started, { ...bg, traffic: switched }))).toEqual({ kind: 'switch-back', color: Color.BLUE });
    const idle = { ...switched, switched: false };
    expect(decide(rollingBack(started, { ...bg, traffic: idle }))).toEqual({ kind: 'restore', version: 1 });
    expect(decide(rollingBack(pushed, { ...bg, traffic: idle, counts: counts({ [TargetState.ROLLED_BACK]: 3 }) }))).toMatchObject({
      kind: 'rolled-back', color: Color.GREEN,
    });
  });
});

describe('decide: a replica that takes a deployment over', () => {
  it('goes on from the persisted stage: a bake that ended while no replica ran it is judged at once', () => {
    expect(decide(view({ stage: observing(NOW - 120_000), phase: 2 }))).toEqual({ kind: 'judge' });
  });

  it('does not push a rollback twice: pushed is persisted, so it waits for the acks', () => {
    const pushed: PhaseStage = { kind: 'ROLLBACK', from: S.PAUSED, pushed: true };
    expect(decide(view({ status: S.ROLLING_BACK, stage: pushed, counts: counts({ [TargetState.PUSHED]: 4 }) }))).toEqual({ kind: 'await-acks' });
  });

  it('pushes while the phase has PENDING targets, and observes once all applied: nothing is sent twice', () => {
    expect(decide(view({ phase: 3, counts: counts({ [TargetState.APPLIED]: 3, [TargetState.PENDING]: 2 }) }))).toEqual({ kind: 'push', count: 5 });
    expect(decide(view({ phase: 3, counts: counts({ [TargetState.APPLIED]: 5 }) }))).toMatchObject({ kind: 'observe' });
  });
});
