import type { DeploymentResult } from './deployment.js';
import type { HealthPolicy } from './deployment-model.js';
import { HealthVerdict, InconclusiveAction } from './enums.js';
import type { HealthReport } from './health.js';

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

/**
 * The verdict on a phase of a progressive deployment (canary, rolling, blue-green):
 * - an instance that did not apply → roll back (or FAILED when autoRollback is off);
 * - FAIL → roll back (or pause for an operator when autoRollback is off);
 * - INCONCLUSIVE → keep observing until the evidence bound, then pause for an
 *   operator (or, with onInconclusive PROMOTE, go on): never a pass by default;
 * - PASS → the next phase, or complete after the last.
 * An operator who resumed a paused phase accepts its health as it is.
 */
export function judgePhase(outcome: PhaseOutcome, policy: HealthPolicy): PhaseDecision {
  const { failed, timedOut } = outcome.phaseResult;
  const phase = `phase ${outcome.phase} of ${outcome.phaseCount}`;
  if (failed + timedOut > 0) {
    const reason = `${phase}: ${describeFailures(outcome)}`;
    return policy.autoRollback ? { kind: 'rollback', reason } : { kind: 'fail', reason };
  }
  const health = outcome.health;
  if (health !== null && !outcome.healthOverridden) {
    if (health.verdict === HealthVerdict.FAIL) {
      const reason = `${phase}: ${describeDegradation(health)}`;
      return policy.autoRollback
        ? { kind: 'rollback', reason }
        : { kind: 'pause', reason: `${reason}; autoRollback is off: resume to go on, or roll back` };
    }
    if (health.verdict === HealthVerdict.INCONCLUSIVE) {
      if (!outcome.evidenceDue) return { kind: 'observe' };
      if (policy.onInconclusive !== InconclusiveAction.PROMOTE) {
        return {
          kind: 'pause',
          inconclusive: true,
          reason: `${phase}: health inconclusive: ${health.reasons.join('; ')}; resume to promote it as it is, or roll back`,
        };
      }
    }
  }
  return outcome.phase >= outcome.phaseCount ? { kind: 'complete' } : { kind: 'next-phase' };
}
