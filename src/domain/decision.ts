import type { DeploymentResult } from './deployment.js';

/** What the orchestrator does once every target of a phase has answered. */
export type PhaseDecision =
  | { kind: 'next-phase' }
  | { kind: 'complete' }
  | { kind: 'fail'; reason: string };

/** How a phase ended, as a strategy sees it. */
export interface PhaseOutcome {
  phase: number;
  phaseCount: number;
  /** Targets of this phase. */
  phaseResult: DeploymentResult;
  /** Per-instance reasons of the phase's failures, a few of them. */
  failures: Array<{ instanceId: string; state: string; error: string | null }>;
}

/** "3 of 10 instances did not apply: i-1 (TIMED_OUT: no ack within 30 s), …" */
export function describeFailures(outcome: PhaseOutcome): string {
  const { failed, timedOut, total } = outcome.phaseResult;
  const shown = outcome.failures
    .map((f) => `${f.instanceId} (${f.state}${f.error ? `: ${f.error}` : ''})`)
    .join(', ');
  const more = failed + timedOut - outcome.failures.length;
  return `${failed + timedOut} of ${total} instances did not apply: ${shown}${more > 0 ? `, and ${more} more` : ''}`;
}
