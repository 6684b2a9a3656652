import { judgePhase } from '../../domain/lifecycle/judgement.js';
import { Color } from '../../domain/enums.js';
import { planBlueGreen } from '../../domain/planning.js';
import type { Strategy } from './strategy.js';

/**
 * BLUE_GREEN: the new version goes to every instance of the idle color; after
 * `verifySeconds` of good health the active color of the service and
 * environment switches to it. The other color keeps its config, so a rollback
 * after the switch is switching back, without a push.
 */
export const blueGreenStrategy: Strategy = {
  judgesHealth: true,
  observation: 'verifying',
  switchesTraffic: true,
  plan({ instances, activeColor }) {
    const { plan, idleColor } = planBlueGreen(instances, activeColor);
    return { ...plan, color: idleColor === 'BLUE' ? Color.BLUE : Color.GREEN };
  },
  maxInFlight: (_options, phaseSize) => Math.max(1, phaseSize),
  observeSeconds(options) {
    if (options.strategy !== 'BLUE_GREEN') throw new Error(`the blue-green strategy was given ${options.strategy} options`);
    return options.blueGreen.verifySeconds;
  },
  afterPhase: (outcome, _options, policy) => judgePhase(outcome, policy),
};
