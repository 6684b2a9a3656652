import { DeploymentStrategy } from '../../domain/enums.js';
import { blueGreenStrategy } from './blue-green.js';
import { canaryStrategy } from './canary.js';
import { directStrategy } from './direct.js';
import { rollingStrategy } from './rolling.js';
import type { Strategy } from './strategy.js';

const STRATEGIES: Readonly<Record<DeploymentStrategy, Strategy>> = {
  [DeploymentStrategy.CANARY]: canaryStrategy,
  [DeploymentStrategy.BLUE_GREEN]: blueGreenStrategy,
  [DeploymentStrategy.ROLLING]: rollingStrategy,
  [DeploymentStrategy.DIRECT]: directStrategy,
};

/** The implementation of a strategy. */
export function strategyFor(strategy: DeploymentStrategy): Strategy {
  return STRATEGIES[strategy];
}
