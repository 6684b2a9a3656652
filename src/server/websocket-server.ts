import { type GraphQLFormattedError, GraphQLError, type GraphQLSchema, specifiedRules, validate, type ValidationRule } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type http from 'node:http';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Principal } from '../domain/authorization.js';
import { DomainError, ErrorCode } from '../domain/errors.js';
import { findNulCharacter } from '../domain/text.js';
import type { ConfigFeedService } from '../services/config-feed.service.js';
import type { GraphQLContext } from '../schema/context.js';
import type { CallerGate } from './caller-gate.js';
import { nulMessage } from './request-guards.js';

export interface WebSocketOptions {
  schema: GraphQLSchema;
  gate: CallerGate;
  feeds: ConfigFeedService;
  rules: ValidationRule[];
  maxPayloadBytes: number;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  logger: Logger;
}

type ConnectionExtra = {
  principal?: Principal;
  expiryTimer?: NodeJS.Timeout;
};

/**
 * graphql-ws on the HTTP server's /graphql. The token is checked at
 * connection_init (4403 Forbidden when missing or invalid), every operation is
 * charged to the caller's rate limit, and the socket closes when the token
 * expires so a client reconnects with a fresh one.
 */
export function attachWebSocketServer(server: http.Server, o: WebSocketOptions): { dispose(): Promise<void> } {
  const wsServer = new WebSocketServer({ server, path: '/graphql', maxPayload: o.maxPayloadBytes });
  const refuse = (message: string, code: ErrorCode) => [new GraphQLError(message, { extensions: { code } })];
  const cleanup = useServer<Record<string, unknown>, ConnectionExtra>(
    {
      schema: o.schema,
      validate: (schema, document) => validate(schema, document, [...specifiedRules, ...o.rules]),
      onConnect: async (ctx) => {
        try {
          const admitted = await o.gate.admit(ctx.connectionParams?.authorization, ctx.extra.request.socket.remoteAddress);
          if (!admitted.principal || admitted.expiresAtMs === null) return false;
          ctx.extra.principal = admitted.principal;
          const socket = ctx.extra.socket;
          ctx.extra.expiryTimer = setTimeout(
            () => socket.close(CloseCode.Forbidden, 'Forbidden: the token expired'),
            Math.max(0, Math.min(admitted.expiresAtMs - Date.now(), 2 ** 31 - 1)),
          );
          ctx.extra.expiryTimer.unref();
          return true;
        } catch (error) {
          if (!(error instanceof DomainError)) o.logger.error({ err: error }, 'websocket authentication failed');
          return false;
        }
      },
      onClose: (ctx) => clearTimeout(ctx.extra.expiryTimer),
      onSubscribe: async (ctx, _id, payload) => {
        const where = findNulCharacter(payload);
        if (where !== null) return refuse(nulMessage(where), ErrorCode.BAD_USER_INPUT);
        try {
          if (ctx.extra.principal) await o.gate.charge(ctx.extra.principal);
        } catch (error) {
          if (error instanceof DomainError) return refuse(error.message, error.code);
          throw error;
        }
        return undefined;
      },
      context: (ctx): GraphQLContext => ({ principal: ctx.extra.principal, feeds: o.feeds }),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => o.formatError(e.toJSON(), e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => o.formatError(e.toJSON(), e)),
    },
    wsServer,
  );
  return { dispose: async () => cleanup.dispose() };
}
