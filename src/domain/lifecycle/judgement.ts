import type { DeploymentResult } from '../deployment.js';
import { EventType, type HealthPolicy } from '../deployment-model.js';
import { HealthVerdict, InconclusiveAction } from '../enums.js';
import type { HealthReport } from '../health.js';
import { summarizeHealth } from '../health-report.js';

/** What the orchestrator does once a phase has been judged. */
export type PhaseDecision =
  | { kind: 'next-phase' }
  | { kind: 'complete' }
  | { kind: 'fail'; reason: string }
  /** Give the previous version back to every instance that got the new one. */
  | { kind: 'rollback'; reason: string }
  /** Stop and wait for an operator: degraded with autoRollback off, or (`inconclusive`) no evidence by the bound. */
  | { kind: 'pause'; reason: string; inconclusive?: boolean }
  /** Health is INCONCLUSIVE and the evidence bound is not reached: keep observing, decide nothing yet. */
  | { kind: 'observe' };

/** How a phase ended, as a strategy sees it. */
export interface PhaseOutcome {
  phase: number;
  phaseCount: number;
  /** Targets of this phase. */
  phaseResult: DeploymentResult;
  /** Per-instance reasons of the phase's failures, a few of them. */
  failures: Array<{ instanceId: string; state: string; error: string | null }>;
  /** The health verdict at the end of the phase; null when the strategy does not judge health. */
  health: HealthReport | null;
  /** An operator resumed this phase after it was paused (degraded or inconclusive): its health no longer blocks it. */
  healthOverridden: boolean;
  /** The phase has observed as long as it may wait for evidence (its bake plus the policy's evidence timeout). */
  evidenceDue: boolean;
}

/** "3 of 10 instances did not apply: i-1 (TIMED_OUT: no ack within 30 s), …" */
export function describeFailures(outcome: Pick<PhaseOutcome, 'phaseResult' | 'failures'>, verb = 'did not apply'): string {
  const { failed, timedOut, total } = outcome.phaseResult;
  const shown = outcome.failures
    .map((f) => `${f.instanceId} (${f.state}${f.error ? `: ${f.error}` : ''})`)
    .join(', ');
  const more = failed + timedOut - outcome.failures.length;
  return `${failed + timedOut} of ${total} instances ${verb}: ${shown}${more > 0 ? `, and ${more} more` : ''}`;
}

/** "health degraded: p99 latency 480 ms vs baseline 200 ms: +140% > 50%; …" */
export function describeDegradation(report: HealthReport): string {
  return `health degraded: ${report.reasons.join('; ')}`;
}

/** What a health verdict asks for: nothing (go on), more observation, a rollback, or a pause for an operator. */
export type HealthAction =
  | { kind: 'pass' }
  | { kind: 'observe' }
  | { kind: 'rollback'; reason: string }
  | { kind: 'pause'; reason: string; inconclusive?: boolean };

/**
 * The one rule from a health verdict to an action, for the end of a phase and
 * the periodic checks alike (`where` starts the reason: "phase 2 of 4",
 * "periodic check in phase 2 of 4"):
 * - FAIL → roll back (or pause for an operator when autoRollback is off);
 * - INCONCLUSIVE → keep observing until the evidence is due, then pause for an
 *   operator (or, with onInconclusive PROMOTE, go on): never a pass by default;
 * - PASS → go on.
 * An operator who resumed a paused phase accepted its health as it is.
 */
export function healthAction(
  report: HealthReport,
  policy: HealthPolicy,
  where: string,
  o: { accepted: boolean; evidenceDue: boolean },
): HealthAction {
  if (o.accepted) return { kind: 'pass' };
  if (report.verdict === HealthVerdict.FAIL) {
    const reason = `${where}: ${describeDegradation(report)}`;
    return policy.autoRollback
      ? { kind: 'rollback', reason }
      : { kind: 'pause', reason: `${reason}; autoRollback is off: resume to go on, or roll back` };
  }
  if (report.verdict === HealthVerdict.INCONCLUSIVE) {
    if (!o.evidenceDue) return { kind: 'observe' };
    if (policy.onInconclusive !== InconclusiveAction.PROMOTE) {
      return {
        kind: 'pause',
        inconclusive: true,
        reason: `${where}: health inconclusive: ${report.reasons.join('; ')}; resume to promote it as it is, or roll back`,
      };
    }
  }
  return { kind: 'pass' };
}

/**
 * The verdict on a phase: an instance that did not apply → roll back (or
 * FAILED when autoRollback is off); then its health, when the strategy judges
 * it (healthAction); then the next phase, or complete after the last.
 */
export function judgePhase(outcome: PhaseOutcome, policy: HealthPolicy): PhaseDecision {
  const { failed, timedOut } = outcome.phaseResult;
  const phase = `phase ${outcome.phase} of ${outcome.phaseCount}`;
  if (failed + timedOut > 0) {
    const reason = `${phase}: ${describeFailures(outcome)}`;
    return policy.autoRollback ? { kind: 'rollback', reason } : { kind: 'fail', reason };
  }
  if (outcome.health !== null) {
    const action = healthAction(outcome.health, policy, phase, { accepted: outcome.healthOverridden, evidenceDue: outcome.evidenceDue });
    if (action.kind !== 'pass') return action;
  }
  return outcome.phase >= outcome.phaseCount ? { kind: 'complete' } : { kind: 'next-phase' };
}

/**
 * The event that records a phase's judged health: HEALTH_INCONCLUSIVE when it
 * pauses for want of evidence, else HEALTH_CHECKED (saying so when an
 * INCONCLUSIVE verdict is promoted by the policy).
 */
export function phaseHealthEvent(
  outcome: Pick<PhaseOutcome, 'phase' | 'phaseCount' | 'healthOverridden'>,
  health: HealthReport,
  decision: { kind: string; inconclusive?: boolean },
): { type: EventType; message: string } {
  const inconclusive = decision.kind === 'pause' && decision.inconclusive === true;
  const summary = `phase ${outcome.phase} of ${outcome.phaseCount}: ${summarizeHealth(health)}`;
  const promoted = health.verdict === HealthVerdict.INCONCLUSIVE && !outcome.healthOverridden && !inconclusive;
  return {
    type: inconclusive ? EventType.HEALTH_INCONCLUSIVE : EventType.HEALTH_CHECKED,
    message: promoted ? `${summary}; promoted all the same (health.onInconclusive is PROMOTE)` : summary,
  };
}
