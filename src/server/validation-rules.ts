import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { type DocumentNode, GraphQLError, type GraphQLSchema, type ValidationContext, type ValidationRule } from 'graphql';
import { MAX_PAGE_SIZE } from '../domain/pagination.js';
import { operationCost } from './query-cost.js';
import { nulMessage } from './request-guards.js';

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
}

/** Aliases per operation: enough for any real client, too few to multiply one field a thousand times. */
export const MAX_ALIASES = 15;

// graphql-armor throws its refusals out of validate() (a 500) unless told to report them.
const reportAsInputError = {
  propagateOnRejection: false,
  exposeLimits: true,
  onReject: [
    (context: unknown, error: GraphQLError) => {
      (context as ValidationContext | null)?.reportError(
        new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'BAD_USER_INPUT' } }),
      );
    },
  ],
};

/** Depth and alias limits: validation rules, for HTTP operations and websocket operations alike. */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule({ n: limits.maxDepth, ...reportAsInputError }) as unknown as ValidationRule,
    // __typename too: graphql-armor allows it by default, and 100,000 of them still cost a second.
    maxAliasesRule({ n: MAX_ALIASES, allowList: [], ...reportAsInputError }) as unknown as ValidationRule,
    noNulInStrings,
  ];
}

/**
 * A `\u0000` escape in a string literal of the query text becomes a NUL only
 * when parsed (the body guard sees six plain characters); PostgreSQL stores none.
 */
const noNulInStrings: ValidationRule = (context: ValidationContext) => ({
  StringValue(node) {
    if (node.value.includes('\u0000')) {
      context.reportError(new GraphQLError(nulMessage('a string in the query'), { nodes: [node], extensions: { code: 'BAD_USER_INPUT' } }));
    }
  },
});

/**
 * The cost limit needs the request's variables (page sizes often come in
 * them), so it runs once the operation is resolved, not during validation.
 * Returns the refusal, or null when the operation is within the limit.
 */
export function checkQueryCost(
  limits: QueryLimits,
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): GraphQLError | null {
  const cost = operationCost(schema, document, operationName, variables, MAX_PAGE_SIZE);
  if (cost <= limits.maxCost) return null;
  return new GraphQLError(`query cost ${cost} exceeds the limit of ${limits.maxCost}: ask for smaller pages, less data, or fewer nested lists`, {
    extensions: { code: 'BAD_USER_INPUT', cost, maxCost: limits.maxCost, http: { status: 400 } },
  });
}
