import { describe, expect, it } from 'vitest';
import { INITIAL_STRATEGY_STATE, type StrategyState } from '../../../../src/domain/deployment-model.js';
import {  } from '../../../../src/domain/health-policy.js';
import { DeploymentStatus as S, HealthVerdict } from '../../../../src/domain/enums.js';
import type { HealthReport } from '../../../../src/domain/health.js';
import { EMPTY_SNAPSHOT } from '../../../../src/domain/health-snapshot.js';
import { healthAction } from '../../../../src/domain/lifecycle/judgement.js';
import { type PhaseStage, stageOf, withStage } from '../../../../src/domain/lifecycle/stage.js';
import { withPolicyDefaults } from '../../../../src/domain/health-policy.js';

const UNTIL = Date.parse('2026-01-01T00:00:30Z');

describe('the phase stage', () => {
  it.each<[string, S, PhaseStage]>([
    ['rolling out', S.IN_PROGRESS, { kind: 'ROLLOUT', healthAccepted: false }],
    ['rolling out, health accepted by an operator', S.PAUSED, { kind: 'ROLLOUT', healthAccepted: true }],
    ['observing', S.IN_PROGRESS, { kind: 'OBSERVE', until: UNTIL, healthAccepted: false }],
    ['rolling back, not pushed yet', S.ROLLING_BACK, { kind: 'ROLLBACK', from: S.COMPLETED, pushed: false }],
    ['rolling back, pushed', S.ROLLING_BACK, { kind: 'ROLLBACK', from: S.PAUSED, pushed: true }],
  ])('%s: written into the persisted state and read back the same', (_what, status, stage) => {
    expect(stageOf(status, withStage(INITIAL_STRATEGY_STATE, stage))).toEqual(stage);
  });

  it('keeps the persisted fields of the previous release, so replicas of both can run a deployment', () => {
    const observed = withStage(INITIAL_STRATEGY_STATE, { kind: 'OBSERVE', until: UNTIL, healthAccepted: true });
    expect(observed).toMatchObject({ stage: 'OBSERVE', observeUntil: '2026-01-01T00:00:30.000Z', healthOverridden: true });
    const old: StrategyState = { ...INITIAL_STRATEGY_STATE, stage: 'ROLLOUT', rollbackPushed: true, rollbackFrom: S.IN_PROGRESS };
    expect(stageOf(S.ROLLING_BACK, old)).toEqual({ kind: 'ROLLBACK', from: S.IN_PROGRESS, pushed: true });
  });

  it('an unreadable end of observation has passed: the phase is judged, not observed for ever', () => {
    expect(stageOf(S.IN_PROGRESS, { ...INITIAL_STRATEGY_STATE, stage: 'OBSERVE', observeUntil: 'garbage' })).toEqual({ kind: 'OBSERVE', until: 0, healthAccepted: false });
  });
});

describe('healthAction: the periodic check uses the phase-end rule', () => {
  const policy = withPolicyDefaults({ maxErrorRateIncrease: 0.05, autoRollback: true });
  const report = (verdict: HealthVerdict): HealthReport => ({
    verdict, healthy: verdict === HealthVerdict.PASS, baseline: EMPTY_SNAPSHOT, current: EMPTY_SNAPSHOT, reasons: ['error rate up'],
    checkedAt: new Date(0), insufficientData: false, metrics: [], score: null, outliers: [], evidence: { updated: 1, reporting: 1, required: 1, minHeartbeats: 2 },
  });
  const periodic = { accepted: false, evidenceDue: false };

  it('FAIL rolls back with the check named in the reason, or pauses without autoRollback', () => {
    expect(healthAction(report(HealthVerdict.FAIL), policy, 'periodic check in phase 2 of 4', periodic)).toEqual({
      kind: 'rollback', reason: 'periodic check in phase 2 of 4: health degraded: error rate up',
    });
    expect(healthAction(report(HealthVerdict.FAIL), { ...policy, autoRollback: false }, 'periodic check', periodic)).toMatchObject({ kind: 'pause' });
  });

  it('INCONCLUSIVE between phase ends waits for the phase\'s own judgement; an accepted phase passes', () => {
    expect(healthAction(report(HealthVerdict.INCONCLUSIVE), policy, 'periodic check', periodic)).toEqual({ kind: 'observe' });
    expect(healthAction(report(HealthVerdict.FAIL), policy, 'periodic check', { ...periodic, accepted: true })).toEqual({ kind: 'pass' });
    expect(healthAction(report(HealthVerdict.PASS), policy, 'periodic check', periodic)).toEqual({ kind: 'pass' });
  });
});
