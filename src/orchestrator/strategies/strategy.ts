import type { PhaseDecision, PhaseOutcome } from '../../domain/decision.js';
import type { StrategyOptions } from '../../domain/deployment-model.js';
import type { Plan } from '../../domain/planning.js';

/**
 * A deployment strategy. The orchestrator pushes each phase's targets (at most
 * `maxInFlight` awaiting an ack at once), waits for their answers, and asks the
 * strategy what to do next; strategies never touch storage or the network.
 */
export interface Strategy {
  plan(instanceIds: readonly string[], options: StrategyOptions, deploymentId: string): Plan;
  maxInFlight(options: StrategyOptions, phaseSize: number): number;
  afterPhase(outcome: PhaseOutcome, options: StrategyOptions): PhaseDecision;
}
