import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { BadInputError } from '../domain/errors.js';
import type { GraphQLContext } from '../schema/context.js';
import { toGraphQLError } from '../schema/format-error.js';
import { checkQueryCost, type QueryLimits } from './validation-rules.js';

/** A subscription sent as an HTTP request: a refusal the caller can act on, not an error of ours to log. */
export const SUBSCRIPTION_OVER_HTTP =
  'subscriptions are served over the websocket on /graphql (protocol graphql-transport-ws), not over HTTP: open a websocket to /graphql and subscribe there';

/**
 * The checks of an HTTP operation once Apollo knows it: a subscription (served
 * on the websocket only: executed here, its field resolves without an event,
 * an internal error on every call) and the cost limit, which needs the
 * variables. The websocket makes the cost check in its onSubscribe.
 */
export function operationGuardsPlugin(limits: QueryLimits, schema: GraphQLSchema): ApolloServerPlugin<GraphQLContext> {
  return {
    requestDidStart: async () => ({
      didResolveOperation: async ({ document, operation, operationName, request }) => {
        if (operation?.operation === 'subscription') throw toGraphQLError(new BadInputError(SUBSCRIPTION_OVER_HTTP));
        const tooCostly = checkQueryCost(limits, schema, document, operationName, request.variables);
        if (tooCostly) throw tooCostly;
      },
    }),
  };
}
