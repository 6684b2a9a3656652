import type { HealthPolicy, StrategyOptions } from './deployment-model.js';
import { DeploymentStrategy } from './enums.js';
import { type HealthPolicyRequest, normalizeHealthPolicy } from './health-policy-input.js';
import { BadInputError } from './errors.js';

/** What startDeployment may carry, before defaults (mirrors StartDeploymentInput of API.md). */
export interface StartDeploymentRequest {
  strategy: DeploymentStrategy;
  canary?: { phases?: number[] | null; bakeSeconds?: number | null } | null;
  rolling?: { batchSize?: number | null; batchPercent?: number | null; intervalSeconds?: number | null } | null;
  blueGreen?: { verifySeconds?: number | null } | null;
  direct?: { maxConcurrency?: number | null } | null;
  health?: HealthPolicyRequest | null;
  ackTimeoutSeconds?: number | null;
}

export interface NormalizedDeployment {
  options: StrategyOptions;
  healthPolicy: HealthPolicy;
  ackTimeoutSeconds: number;
}

export const DEFAULT_CANARY_PHASES = [0.1, 0.3, 0.5, 1.0];
const DAY = 86_400;

const OPTION_KEYS = { CANARY: 'canary', ROLLING: 'rolling', BLUE_GREEN: 'blueGreen', DIRECT: 'direct' } as const;

/**
 * Applies the defaults of API.md and checks every option, so the orchestrator
 * only ever sees a complete, valid configuration.
 * @throws BadInputError naming the field
 */
export function normalizeDeployment(req: StartDeploymentRequest): NormalizedDeployment {
  for (const [strategy, key] of Object.entries(OPTION_KEYS)) {
    if (strategy !== req.strategy && req[key] !== undefined && req[key] !== null) {
      throw bad(key, `${key} options were given for a ${req.strategy} deployment; give only the options of its strategy`);
    }
  }
  return {
    options: strategyOptions(req),
    healthPolicy: normalizeHealthPolicy(req.health),
    ackTimeoutSeconds: wholeNumber('ackTimeoutSeconds', req.ackTimeoutSeconds ?? 30, 1, 3600),
  };
}

function strategyOptions(req: StartDeploymentRequest): StrategyOptions {
  switch (req.strategy) {
    case DeploymentStrategy.CANARY: {
      const phases = req.canary?.phases ?? DEFAULT_CANARY_PHASES;
      if (phases.length === 0 || phases.length > 20) throw bad('canary.phases', 'canary.phases must list 1 to 20 shares');
      phases.forEach((p, i) => {
        if (!(Number.isFinite(p) && p > 0 && p <= 1)) throw bad('canary.phases', `canary.phases[${i}] must be a share in (0, 1], got ${p}`);
        if (i > 0 && p <= phases[i - 1]!) throw bad('canary.phases', 'canary.phases must be strictly ascending, e.g. [0.1, 0.3, 0.5, 1.0]');
      });
      if (phases.at(-1) !== 1) throw bad('canary.phases', 'the last canary phase must be 1.0 (the whole fleet)');
      return { strategy: req.strategy, canary: { phases: [...phases], bakeSeconds: wholeNumber('canary.bakeSeconds', req.canary?.bakeSeconds ?? 60, 0, DAY) } };
    }
    case DeploymentStrategy.ROLLING: {
      const size = req.rolling?.batchSize ?? null;
      const percent = req.rolling?.batchPercent ?? null;
      if (size !== null && percent !== null) throw bad('rolling', 'give rolling.batchSize or rolling.batchPercent, not both');
      if (size !== null) wholeNumber('rolling.batchSize', size, 1, 1_000_000);
      if (percent !== null && !(Number.isFinite(percent) && percent > 0 && percent <= 100)) {
        throw bad('rolling.batchPercent', `rolling.batchPercent must be a percentage in (0, 100], got ${percent}`);
      }
      return {
        strategy: req.strategy,
        rolling: {
          batchSize: size,
          batchPercent: size === null && percent === null ? 25 : percent,
          intervalSeconds: wholeNumber('rolling.intervalSeconds', req.rolling?.intervalSeconds ?? 30, 0, DAY),
        },
      };
    }
    case DeploymentStrategy.BLUE_GREEN:
      return { strategy: req.strategy, blueGreen: { verifySeconds: wholeNumber('blueGreen.verifySeconds', req.blueGreen?.verifySeconds ?? 60, 0, DAY) } };
    case DeploymentStrategy.DIRECT:
      return { strategy: req.strategy, direct: { maxConcurrency: wholeNumber('direct.maxConcurrency', req.direct?.maxConcurrency ?? 100, 1, 1_000_000) } };
  }
}

function wholeNumber(field: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) throw bad(field, `${field} must be a whole number from ${min} to ${max}, got ${n}`);
  return n;
}

function bad(field: string, message: string): BadInputError {
  return new BadInputError(message, { field });
}
