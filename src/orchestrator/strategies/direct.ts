import { describeFailures, type PhaseDecision, type PhaseOutcome } from '../../domain/lifecycle/judgement.js';
import type { StrategyOptions } from '../../domain/deployment-model.js';
import type { Strategy } from './strategy.js';

/**
 * DIRECT: every target in one phase, at most `maxConcurrency` pushes awaiting an
 * ack; COMPLETED when all applied, FAILED (with per-instance reasons) otherwise.
 * No health judgement and no automatic rollback.
 */
export const directStrategy: Strategy = {
  judgesHealth: false,
  observation: 'waiting',
  switchesTraffic: false,
  plan({ instances }) {
    return { phaseCount: 1, targets: instances.map((i) => ({ instanceId: i.id, phase: 1 })), color: null };
  },
  maxInFlight(options: StrategyOptions, phaseSize: number): number {
    const limit = options.strategy === 'DIRECT' ? options.direct.maxConcurrency : phaseSize;
    return Math.max(1, Math.min(limit, phaseSize));
  },
  observeSeconds: () => 0,
  afterPhase(outcome: PhaseOutcome): PhaseDecision {
    const { failed, timedOut } = outcome.phaseResult;
    return failed + timedOut > 0 ? { kind: 'fail', reason: describeFailures(outcome) } : { kind: 'complete' };
  },
};
