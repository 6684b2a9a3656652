import { type ExecutionArgs, getOperationAST, GraphQLError, type GraphQLFormattedError, type GraphQLSchema, type ValidationRule } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type http from 'node:http';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import type { Principal } from '../domain/authorization.js';
import { DomainError, ErrorCode } from '../domain/errors.js';
import type { GraphQLContext } from '../schema/context.js';
import type { CallerGate } from '../server/caller-gate.js';
import { refusalOf } from '../server/request-guards.js';
import type { ConfigFeedService } from './config-feed.service.js';
import { DocumentCache } from './document-cache.js';
import { MessageScheduler } from './message-scheduler.js';
import { SendPaths } from './send-paths.js';
import { SharedResults } from './shared-results.js';
import { internalErrorReason, SocketAdapter } from './socket-adapter.js';

export interface WebSocketOptions {
  schema: GraphQLSchema;
  gate: CallerGate;
  feeds: ConfigFeedService;
  rules: ValidationRule[];
  /** The cost check, which needs the operation's variables. */
  checkCost: (document: ExecutionArgs['document'], operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined) => GraphQLError | null;
  maxPayloadBytes: number;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  logger: Logger;
  /** Close reasons then never carry an internal error's message. */
  production: boolean;
}

/** What graphql-ws keeps of a connection (its context's `extra`). */
type ConnectionExtra = {
  connection: SocketAdapter;
  request: http.IncomingMessage;
  principal?: Principal;
  expiryTimer?: NodeJS.Timeout;
};

/**
 * graphql-ws on the HTTP server's /graphql, each connection through our
 * SocketAdapter. The token is checked at connection_init (4403 Forbidden when
 * missing or invalid), every operation is charged to the caller's rate limit,
 * and the socket closes when the token expires so a client reconnects with a
 * fresh one.
 */
export function attachWebSocketServer(server: http.Server, o: WebSocketOptions): { dispose(): Promise<void> } {
  const wsServer = new WebSocketServer({ server, path: '/graphql', maxPayload: o.maxPayloadBytes, handleProtocols });
  const shared = new SharedResults();
  const messages = new MessageScheduler();
  const graphqlWs = makeServer(hooks(o, new SendPaths(shared, o.formatError, messages)));
  const adapterOptions = { expand: (text: string) => shared.expand(text), messages, logger: o.logger, production: o.production };
  wsServer.on('connection', (socket, request) => {
    const connection = new SocketAdapter(socket, request.socket, adapterOptions);
    connection.serve(() => graphqlWs.opened(connection, { connection, request }));
  });
  // The HTTP server's errors reach here too: every client is told, then the first failure to tell one is thrown.
  wsServer.once('error', (error) => {
    o.logger.error({ err: error }, 'websocket server error; every socket closes');
    let firstFailure: unknown = null;
    for (const client of wsServer.clients) {
      try {
        client.close(CloseCode.InternalServerError, internalErrorReason(error, o.production));
      } catch (failure) {
        firstFailure ??= failure;
      }
    }
    if (firstFailure !== null) throw firstFailure;
  });
  return {
    dispose: async () => {
      for (const client of wsServer.clients) client.close(1001, 'Going away');
      wsServer.removeAllListeners();
      await new Promise<void>((resolve, reject) => wsServer.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

const refuse = (message: string, code: ErrorCode) => [new GraphQLError(message, { extensions: { code } })];

/** Authentication at connection_init, the same limits as over HTTP for each operation, then its send path. */
function hooks(o: WebSocketOptions, paths: SendPaths): ServerOptions<Record<string, unknown>, ConnectionExtra> {
  const documents = new DocumentCache(o.schema, o.rules);
  return {
    schema: o.schema,
    onConnect: async (ctx) => {
      try {
        const admitted = await o.gate.admit(ctx.connectionParams?.authorization, ctx.extra.request.socket.remoteAddress);
        if (!admitted.principal || admitted.expiresAtMs === null) return false;
        ctx.extra.principal = admitted.principal;
        const { connection } = ctx.extra;
        // The socket may have closed while the token was checked; then there is nothing to time.
        if (!connection.isOpen) return false;
        ctx.extra.expiryTimer = setTimeout(
          () => connection.close(CloseCode.Forbidden, 'Forbidden: the token expired'),
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
    // Parses, validates and prices each operation itself, so the same limits
    // apply as over HTTP (graphql-ws then runs the returned arguments as they are).
    onSubscribe: async (ctx, id, payload): Promise<ExecutionArgs | readonly GraphQLError[]> => {
      const refusal = refusalOf(payload, payload.query);
      if (refusal !== null) return refuse(refusal, ErrorCode.BAD_USER_INPUT);
      try {
        if (ctx.extra.principal) await o.gate.charge(ctx.extra.principal);
      } catch (error) {
        if (error instanceof DomainError) return refuse(error.message, error.code);
        throw error;
      }
      const prepared = documents.prepare(payload.query);
      if ('errors' in prepared) return prepared.errors;
      const { document } = prepared;
      const tooCostly = o.checkCost(document, payload.operationName, payload.variables);
      if (tooCostly) return [tooCostly];
      if (!getOperationAST(document, payload.operationName)) return refuse('no operation to run in this document', ErrorCode.BAD_USER_INPUT);
      const contextValue: GraphQLContext = { principal: ctx.extra.principal, feeds: o.feeds };
      const args: ExecutionArgs = { schema: o.schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
      return paths.start(args, id, ctx.extra.connection);
    },
    subscribe: (args) => paths.subscribe(args),
    onNext: (_ctx, _id, _payload, _args, result) => paths.payloadOf(result),
    onError: (_ctx, _id, _payload, errors) => errors.map((e) => o.formatError(e.toJSON(), e)),
  };
}
