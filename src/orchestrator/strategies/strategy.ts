import type { PhaseDecision, PhaseOutcome } from '../../domain/lifecycle/judgement.js';
import type { HealthPolicy, StrategyOptions } from '../../domain/deployment-model.js';
import type { Color } from '../../domain/enums.js';
import type { Plan } from '../../domain/planning.js';

/** What a strategy plans from: the live instances of the service at the start. */
export interface PlanInput {
  deploymentId: string;
  instances: ReadonlyArray<{ id: string; color: Color | null }>;
  options: StrategyOptions;
  /** The active color of the service and environment (blue-green); null before the first switch. */
  activeColor: Color | null;
}

export interface StrategyPlan extends Plan {
  /** Blue-green: the color the new version goes to. */
  color: Color | null;
}

/**
 * A deployment strategy. The orchestrator pushes each phase's targets (at most
 * `maxInFlight` awaiting an ack at once), waits for their answers, observes
 * health for `observeSeconds`, and asks the strategy what to do next.
 * Strategies are pure: they never touch storage, the network or the clock.
 */
export interface Strategy {
  /** The targets' health is captured at the start and judged at phase ends. */
  readonly judgesHealth: boolean;
  /** Completing switches the active color to the deployment's color (blue-green), and a rollback switches it back. */
  readonly switchesTraffic: boolean;
  /** What the observation after a phase is called in events ("baking", "verifying", "waiting"). */
  readonly observation: string;
  plan(input: PlanInput): StrategyPlan;
  maxInFlight(options: StrategyOptions, phaseSize: number): number;
  /** How long to watch health after every target of `phase` answered, before judging it (bake, verify, interval). */
  observeSeconds(options: StrategyOptions, phase: number, phaseCount: number): number;
  afterPhase(outcome: PhaseOutcome, options: StrategyOptions, policy: HealthPolicy): PhaseDecision;
}
