import { describe, expect, it } from 'vitest';
import type { PhaseDecision, PhaseOutcome } from '../../../src/domain/lifecycle/judgement.js';
import { summarizeTargets, TargetState } from '../../../src/domain/deployment.js';
import type { HealthPolicy, StrategyOptions } from '../../../src/domain/deployment-model.js';
import { withPolicyDefaults } from '../../../src/domain/health-policy.js';
import { Color, DeploymentStrategy, HealthVerdict } from '../../../src/domain/enums.js';
import { BadInputError } from '../../../src/domain/errors.js';
import type { HealthReport } from '../../../src/domain/health.js';
import { blueGreenStrategy } from '../../../src/orchestrator/strategies/blue-green.js';
import { strategyFor } from '../../../src/orchestrator/strategies/select-strategy.js';
import type { PlanInput } from '../../../src/orchestrator/strategies/strategy.js';

const blueGreen = (verifySeconds = 1): StrategyOptions => ({ strategy: DeploymentStrategy.BLUE_GREEN, blueGreen: { verifySeconds } });

const POLICY: HealthPolicy = withPolicyDefaults({ maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: null, autoRollback: true });
const NO_AUTO: HealthPolicy = { ...POLICY, autoRollback: false };

const FLEET: PlanInput['instances'] = [
  { id: 'blue-2', color: Color.BLUE },
  { id: 'green-2', color: Color.GREEN },
  { id: 'blue-1', color: Color.BLUE },
  { id: 'plain-1', color: null },
  { id: 'green-1', color: Color.GREEN },
  { id: 'green-3', color: Color.GREEN },
];

function plan(instances: PlanInput['instances'], activeColor: Color | null) {
  return blueGreenStrategy.plan({ deploymentId: 'dep-bg', instances, options: blueGreen(), activeColor });
}

const reasonOf = (d: PhaseDecision): string | null => ('reason' in d ? d.reason : null);

const SNAPSHOT = { errorRate: 0.01, latencyP99Ms: 100, requestCount: 50, custom: null, instances: 2 };
function health(reasons: string[] = [], insufficientData = false): HealthReport {
  const verdict = insufficientData ? HealthVerdict.INCONCLUSIVE : reasons.length === 0 ? HealthVerdict.PASS : HealthVerdict.FAIL;
  const evidence = { updated: 1, reporting: insufficientData ? 0 : 1, required: 1, minHeartbeats: 2 };
  return { verdict, healthy: verdict === HealthVerdict.PASS, baseline: SNAPSHOT, current: SNAPSHOT, reasons, checkedAt: new Date(0), insufficientData, evidence, metrics: [], score: null, outliers: [] };
}

function outcome(opts: { failed?: number; timedOut?: number; report?: HealthReport; overridden?: boolean } = {}): PhaseOutcome {
  const failed = opts.failed ?? 0;
  const timedOut = opts.timedOut ?? 0;
  const states = [
    ...Array<TargetState>(failed).fill(TargetState.FAILED),
    ...Array<TargetState>(timedOut).fill(TargetState.TIMED_OUT),
    ...Array<TargetState>(3 - failed - timedOut).fill(TargetState.APPLIED),
  ];
  return {
    phase: 1,
    phaseCount: 1,
    phaseResult: summarizeTargets(states.map((state) => ({ state }))),
    evidenceDue: true,
    failures: [
      ...Array.from({ length: failed }, (_, i) => ({ instanceId: `green-${i + 1}`, state: 'FAILED', error: 'rejected' })),
      ...Array.from({ length: timedOut }, (_, i) => ({ instanceId: `green-${failed + i + 1}`, state: 'TIMED_OUT', error: null })),
    ],
    health: opts.report ?? health(),
    healthOverridden: opts.overridden ?? false,
  };
}

describe('blueGreenStrategy: shape', () => {
  it('is the strategy selected for BLUE_GREEN; judges health, verifies, switches traffic', () => {
    expect(strategyFor(DeploymentStrategy.BLUE_GREEN)).toBe(blueGreenStrategy);
    expect(blueGreenStrategy.judgesHealth).toBe(true);
    expect(blueGreenStrategy.switchesTraffic).toBe(true);
    expect(blueGreenStrategy.observation).toBe('verifying');
  });
});

describe('blueGreenStrategy.plan', () => {
  it('first deployment (no active color): the GREEN instances, one phase, sorted by id, color GREEN', () => {
    expect(plan(FLEET, null)).toEqual({
      phaseCount: 1,
      color: Color.GREEN,
      targets: [
        { instanceId: 'green-1', phase: 1 },
        { instanceId: 'green-2', phase: 1 },
        { instanceId: 'green-3', phase: 1 },
      ],
    });
  });

  it('BLUE active → GREEN targets and color GREEN', () => {
    const p = plan(FLEET, Color.BLUE);
    expect(p.color).toBe(Color.GREEN);
    expect(p.targets.map((t) => t.instanceId)).toEqual(['green-1', 'green-2', 'green-3']);
  });

  it('GREEN active → BLUE targets and color BLUE', () => {
    const p = plan(FLEET, Color.GREEN);
    expect(p.color).toBe(Color.BLUE);
    expect(p).toEqual({ phaseCount: 1, color: Color.BLUE, targets: [{ instanceId: 'blue-1', phase: 1 }, { instanceId: 'blue-2', phase: 1 }] });
  });

  it('never targets instances without a color, whichever color is idle', () => {
    for (const active of [null, Color.BLUE, Color.GREEN]) {
      expect(plan(FLEET, active).targets.map((t) => t.instanceId)).not.toContain('plain-1');
    }
  });

  it('does not depend on the deployment id or the input order', () => {
    const a = blueGreenStrategy.plan({ deploymentId: 'one', instances: FLEET, options: blueGreen(), activeColor: null });
    const b = blueGreenStrategy.plan({ deploymentId: 'two', instances: [...FLEET].reverse(), options: blueGreen(), activeColor: null });
    expect(b).toEqual(a);
  });

  it('refuses a fleet where no instance has a color', () => {
    const uncolored = [{ id: 'a', color: null }, { id: 'b', color: null }];
    expect(() => plan(uncolored, null)).toThrow(BadInputError);
    expect(() => plan(uncolored, null)).toThrow('no instance of the service has a color');
  });

  it('refuses when no instance has the idle color', () => {
    const onlyGreen = FLEET.filter((i) => i.color !== Color.BLUE);
    expect(() => plan(onlyGreen, Color.GREEN)).toThrow(BadInputError);
    expect(() => plan(onlyGreen, Color.GREEN)).toThrow('no BLUE instances of the service are registered');
    const onlyBlue = FLEET.filter((i) => i.color !== Color.GREEN);
    expect(() => plan(onlyBlue, null)).toThrow('no GREEN instances of the service are registered');
    expect(() => plan([], Color.BLUE)).toThrow(BadInputError);
  });
});

describe('blueGreenStrategy.maxInFlight and observeSeconds', () => {
  it('pushes the whole idle color at once (at least one)', () => {
    expect(blueGreenStrategy.maxInFlight(blueGreen(), 3)).toBe(3);
    expect(blueGreenStrategy.maxInFlight(blueGreen(), 0)).toBe(1);
  });

  it('verifies for verifySeconds', () => {
    expect(blueGreenStrategy.observeSeconds(blueGreen(1), 1, 1)).toBe(1);
    expect(blueGreenStrategy.observeSeconds(blueGreen(45), 1, 1)).toBe(45);
  });

  it('throws on options of another strategy', () => {
    const rolling: StrategyOptions = { strategy: DeploymentStrategy.ROLLING, rolling: { batchSize: 1, batchPercent: null, intervalSeconds: 0 } };
    expect(() => blueGreenStrategy.observeSeconds(rolling, 1, 1)).toThrow('the blue-green strategy was given ROLLING options');
  });
});

describe('blueGreenStrategy.afterPhase', () => {
  it('healthy after verification → complete (the single phase is the last); inconclusive → pause, never a switch', () => {
    expect(blueGreenStrategy.afterPhase(outcome(), blueGreen(), POLICY)).toEqual({ kind: 'complete' });
    expect(blueGreenStrategy.afterPhase(outcome({ report: health([], true) }), blueGreen(), POLICY)).toMatchObject({ kind: 'pause', inconclusive: true });
  });

  it('an idle instance that did not apply → rollback, or fail without autoRollback', () => {
    const rb = blueGreenStrategy.afterPhase(outcome({ failed: 1, timedOut: 1 }), blueGreen(), POLICY);
    expect(rb).toEqual({
      kind: 'rollback',
      reason: 'phase 1 of 1: 2 of 3 instances did not apply: green-1 (FAILED: rejected), green-2 (TIMED_OUT)',
    });
    expect(blueGreenStrategy.afterPhase(outcome({ failed: 1 }), blueGreen(), NO_AUTO).kind).toBe('fail');
  });

  it('degraded → rollback, or pause without autoRollback; an operator override completes', () => {
    const report = health(['custom metric queue 12 > 10']);
    expect(blueGreenStrategy.afterPhase(outcome({ report }), blueGreen(), POLICY)).toEqual({
      kind: 'rollback',
      reason: 'phase 1 of 1: health degraded: custom metric queue 12 > 10',
    });
    const paused = blueGreenStrategy.afterPhase(outcome({ report }), blueGreen(), NO_AUTO);
    expect(paused.kind).toBe('pause');
    expect(reasonOf(paused)).toMatch(/^phase 1 of 1: health degraded: custom metric queue 12 > 10; autoRollback is off/);
    expect(blueGreenStrategy.afterPhase(outcome({ report, overridden: true }), blueGreen(), NO_AUTO)).toEqual({ kind: 'complete' });
  });
});
