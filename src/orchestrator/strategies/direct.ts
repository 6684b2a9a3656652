import { describeFailures, type PhaseDecision, type PhaseOutcome } from '../../domain/decision.js';
import type { StrategyOptions } from '../../domain/deployment-model.js';
import type { Plan } from '../../domain/planning.js';
import type { Strategy } from './strategy.js';

/**
 * DIRECT: every target in one phase, at most `maxConcurrency` pushes awaiting an
 * ack; COMPLETED when all applied, FAILED (with per-instance reasons) otherwise.
 */
export const directStrategy: Strategy = {
  plan(instanceIds): Plan {
    return { phaseCount: 1, targets: instanceIds.map((instanceId) => ({ instanceId, phase: 1 })) };
  },
  maxInFlight(options: StrategyOptions, phaseSize: number): number {
    const limit = options.strategy === 'DIRECT' ? options.direct.maxConcurrency : phaseSize;
    return Math.max(1, Math.min(limit, phaseSize));
  },
  afterPhase(outcome: PhaseOutcome): PhaseDecision {
    const { failed, timedOut } = outcome.phaseResult;
    return failed + timedOut > 0 ? { kind: 'fail', reason: describeFailures(outcome) } : { kind: 'complete' };
  },
};
