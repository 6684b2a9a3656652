import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, type ValidationContext, type ValidationRule } from 'graphql';
import { MAX_PAGE_SIZE } from '../domain/pagination.js';
import { costLimitRule } from './cost-rule.js';

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
}

/** Depth and cost limits, applied to HTTP operations and websocket subscriptions alike. */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  const depth = maxDepthRule({
    n: limits.maxDepth,
    exposeLimits: true,
    // Report like any validation error instead of throwing out of validate() (a 500).
    propagateOnRejection: false,
    onReject: [
      (context, error) => {
        (context as ValidationContext | null)?.reportError(
          new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'BAD_USER_INPUT' } }),
        );
      },
    ],
  });
  return [depth as unknown as ValidationRule, costLimitRule(limits.maxCost, MAX_PAGE_SIZE)];
}
