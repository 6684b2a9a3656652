import { judgePhase } from '../../domain/lifecycle/judgement.js';
import type { StrategyOptions } from '../../domain/deployment-model.js';
import { planCanary } from '../../domain/planning.js';
import type { Strategy } from './strategy.js';

function canaryOf(o: StrategyOptions) {
  if (o.strategy !== 'CANARY') throw new Error(`the canary strategy was given ${o.strategy} options`);
  return o.canary;
}

/**
 * CANARY: growing shares of the fleet (10%, 30%, 50%, 100% by default), the
 * instances of each phase chosen by a stable hash of instance and deployment
 * id; after each phase bake `bakeSeconds`, judge health, promote or roll back.
 */
export const canaryStrategy: Strategy = {
  judgesHealth: true,
  observation: 'baking',
  switchesTraffic: false,
  plan({ instances, deploymentId, options }) {
    return { ...planCanary(instances.map((i) => i.id), deploymentId, canaryOf(options).phases), color: null };
  },
  maxInFlight: (_options, phaseSize) => Math.max(1, phaseSize),
  observeSeconds: (options) => canaryOf(options).bakeSeconds,
  afterPhase: (outcome, _options, policy) => judgePhase(outcome, policy),
};
