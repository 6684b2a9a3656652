import { summarizeCounts, TargetState } from '../domain/deployment.js';
import { DeploymentStatus } from '../domain/enums.js';
import type { HealthReport } from '../domain/health.js';
import type { StepView, TargetCounts } from '../domain/lifecycle/decide.js';
import { expireAcks } from './acks.js';
import type { Step } from './step.js';

/**
 * Reads what decide needs for this step. While pushes may await acks (rolling
 * out or back), `expire` first ends those past their deadline
 * (domain/ack-expiry.ts), once per step.
 */
export async function readView(s: Step, expire: boolean): Promise<StepView> {
  const { d, stage } = s;
  let counts: TargetCounts | undefined;
  const rollingBack = d.status === DeploymentStatus.ROLLING_BACK;
  if (rollingBack || (d.status === DeploymentStatus.IN_PROGRESS && stage.kind !== 'OBSERVE')) {
    if (expire) await expireAcks(s);
    counts = await targetCounts(s, rollingBack ? null : d.phase);
  }
  return {
    status: d.status,
    phase: d.phase,
    phaseCount: d.phaseCount,
    stage,
    now: s.now.getTime(),
    strategy: s.strategy,
    options: d.options,
    policy: d.healthPolicy,
    version: d.version,
    previousVersion: d.previousVersion,
    rollbackReason: d.rollbackReason,
    traffic: { color: d.state.color, previousColor: d.state.previousColor, switched: d.state.switched },
    evidenceTimeoutMs: d.healthPolicy.evidenceTimeoutSeconds === null ? s.deps.settings.evidenceTimeoutMs : d.healthPolicy.evidenceTimeoutSeconds * 1000,
    counts,
  };
}

/** Targets of `phase` (null: of the whole deployment) by outcome. */
export async function targetCounts(s: Step, phase: number | null): Promise<TargetCounts> {
  const counts = await s.r.targets.counts(s.d.id, phase);
  return { ...summarizeCounts(counts), inFlight: counts[TargetState.PUSHED] ?? 0 };
}

/**
 * The outcome of the phase whose observation is over: its results, a few of
 * its failures, and (when the strategy judges health and every target
 * applied) the health of the instances it updated.
 */
export async function readOutcome(s: Step): Promise<NonNullable<StepView['outcome']>> {
  const { r, d } = s;
  const phaseResult = summarizeCounts(await r.targets.counts(d.id, d.phase));
  let health: HealthReport | null = null;
  if (s.strategy.judgesHealth && phaseResult.failed + phaseResult.timedOut === 0) {
    health = await s.deps.health.check(d, await r.deployments.targets(d.id), s.now, 'phase');
  }
  return { phaseResult, failures: await r.targets.failures(d.id, 5), health };
}
