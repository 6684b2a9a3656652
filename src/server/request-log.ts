import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import { Kind } from 'graphql';
import type { Logger } from 'pino';
import type { GraphQLContext } from '../schema/context.js';

/** Instance traffic (every instance, every few seconds) is logged at debug level, everything else at info. */
const CHATTY_FIELDS = new Set(['heartbeat', 'reportConfigApplied']);

/**
 * One log line per GraphQL request over HTTP: the operation, its top-level
 * fields, who called (sub and role), the HTTP status, the error codes and the
 * duration. Never variables, tokens or config bodies.
 *
 * The codes are read from the response body, which formatError has already
 * written: the log shows the code the client got, never a code of its own.
 */
export function requestLogPlugin(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operation, operationName, response, contextValue }) {
          const fields = (operation?.selectionSet.selections ?? []).flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
          const codes = errorCodesSent(response);
          const entry = {
            request: {
              operation: operationName ?? null,
              type: operation?.operation ?? null,
              fields,
              caller: contextValue.principal?.sub ?? null,
              role: contextValue.principal?.role ?? null,
              status: response.http.status ?? 200,
              errors: codes,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
            },
          };
          const chatty = fields.length > 0 && fields.every((f) => CHATTY_FIELDS.has(f)) && codes.length === 0;
          if (chatty) logger.debug(entry, 'graphql request');
          else logger.info(entry, 'graphql request');
        },
      };
    },
  };
}

/** The distinct `extensions.code`s of the errors in the response as sent (the initial part of an incremental one). */
function errorCodesSent(response: GraphQLResponse): string[] {
  const errors = response.body.kind === 'single' ? response.body.singleResult.errors : response.body.initialResult.errors;
  return [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
}
