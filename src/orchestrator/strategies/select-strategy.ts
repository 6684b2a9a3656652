import { DeploymentStrategy } from '../../domain/enums.js';
import { BadInputError } from '../../domain/errors.js';
import { directStrategy } from './direct.js';
import type { Strategy } from './strategy.js';

const STRATEGIES: Partial<Record<DeploymentStrategy, Strategy>> = {
  [DeploymentStrategy.DIRECT]: directStrategy,
};

/** The implementation of a strategy; BAD_USER_INPUT for one this release does not run yet. */
export function strategyFor(strategy: DeploymentStrategy): Strategy {
  const found = STRATEGIES[strategy];
  if (!found) throw new BadInputError(`the ${strategy} strategy is not available yet; use DIRECT`, { field: 'strategy' });
  return found;
}
