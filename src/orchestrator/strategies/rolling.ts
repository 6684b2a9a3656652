import { judgePhase } from '../../domain/lifecycle/judgement.js';
import type { StrategyOptions } from '../../domain/deployment-model.js';
import { planRolling } from '../../domain/planning.js';
import type { Strategy } from './strategy.js';

function rollingOf(o: StrategyOptions) {
  if (o.strategy !== 'ROLLING') throw new Error(`the rolling strategy was given ${o.strategy} options`);
  return o.rolling;
}

/**
 * ROLLING: batches of `batchSize` instances (or `batchPercent` of the fleet),
 * `intervalSeconds` apart (and watched as long after the last one); the first batch with an instance that does not apply
 * (or degraded health) stops the deployment and the batches already updated
 * get the previous version back.
 */
export const rollingStrategy: Strategy = {
  judgesHealth: true,
  observation: 'waiting',
  switchesTraffic: false,
  plan({ instances, deploymentId, options }) {
    return { ...planRolling(instances.map((i) => i.id), deploymentId, rollingOf(options)), color: null };
  },
  maxInFlight: (_options, phaseSize) => Math.max(1, phaseSize),
  // After the last batch too: its instances must report before the deployment is judged healthy.
  observeSeconds: (options) => rollingOf(options).intervalSeconds,
  afterPhase: (outcome, _options, policy) => judgePhase(outcome, policy),
};
