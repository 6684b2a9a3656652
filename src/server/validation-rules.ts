import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import type { ValidationRule } from 'graphql';

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
}

/** Depth and cost limits, applied to HTTP operations and websocket subscriptions alike. */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, exposeLimits: true }) as unknown as ValidationRule,
    costLimitRule({ maxCost: limits.maxCost, exposeLimits: true }) as unknown as ValidationRule,
  ];
}
