import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { GraphQLError, type GraphQLSchema, specifiedRules, validate } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { type Principal } from '../domain/authorization.js';
import { DomainError, ErrorCode } from '../domain/errors.js';
import { findNulCharacter } from '../domain/text.js';
import type { GraphQLContext } from '../schema/context.js';
import { createErrorFormatter, toGraphQLError } from '../schema/format-error.js';
import type { CallerGate } from './graphql-context.js';
import { type QueryLimits, queryLimitRules } from './validation-rules.js';

export interface HttpServerOptions {
  schema: GraphQLSchema;
  gate: CallerGate;
  logger: Logger;
  limits: QueryLimits & { maxBodyBytes: number };
  /** Answers /readyz: throws when a dependency is down. */
  checkReady: () => Promise<void>;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** One HTTP server: GraphQL over HTTP and graphql-ws on the same port, plus health endpoints. */
export async function startHttpServer(o: HttpServerOptions, host: string, port: number): Promise<RunningHttpServer> {
  const app = express();
  app.disable('x-powered-by');
  const server = http.createServer(app);
  const formatError = createErrorFormatter(o.logger);
  const rules = queryLimitRules(o.limits);

  const wsServer = new WebSocketServer({ server, path: '/graphql', maxPayload: o.limits.maxBodyBytes });
  const wsCleanup = useServer<Record<string, unknown>, { principal?: Principal }>(
    {
      schema: o.schema,
      validate: (schema, document) => validate(schema, document, [...specifiedRules, ...rules]),
      onConnect: async (ctx) => {
        try {
          const address = ctx.extra.request.socket.remoteAddress;
          const principal = await o.gate.admit(ctx.connectionParams?.authorization, address);
          if (!principal) return false;
          ctx.extra.principal = principal;
          return true;
        } catch (error) {
          if (!(error instanceof DomainError)) o.logger.error({ err: error }, 'websocket authentication failed');
          return false;
        }
      },
      onSubscribe: (_ctx, _id, payload) => {
        const where = findNulCharacter(payload);
        if (where === null) return undefined;
        return [new GraphQLError(nulMessage(where), { extensions: { code: ErrorCode.BAD_USER_INPUT } })];
      },
      context: (ctx): GraphQLContext => ({ principal: ctx.extra.principal }),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema: o.schema,
    validationRules: rules,
    formatError,
    includeStacktraceInErrorResponses: false,
    // main.ts owns the signals and stops everything in order.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      { serverWillStart: async () => ({ drainServer: async () => wsCleanup.dispose() }) },
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await o.checkReady();
      res.json({ status: 'ready' });
    } catch (error) {
      res.status(503).json({ status: 'unavailable', reason: error instanceof Error ? error.message : String(error) });
    }
  });
  app.use(
    '/graphql',
    express.json({ limit: o.limits.maxBodyBytes }),
    refuseNulCharacters,
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        try {
          return { principal: await o.gate.admit(req.headers.authorization, req.socket.remoteAddress) };
        } catch (error) {
          if (error instanceof DomainError) throw toGraphQLError(error);
          throw error;
        }
      },
    }),
  );
  app.use(bodyErrorHandler(o.limits.maxBodyBytes));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${actualPort}/graphql`,
    port: actualPort,
    stop: () => apollo.stop(),
  };
}

/** PostgreSQL stores no NUL characters; refuse a request carrying one before anything runs. */
const refuseNulCharacters: RequestHandler = (req, res, next) => {
  const where = findNulCharacter(req.body);
  if (where === null) return next();
  res.status(400).json({ errors: [{ message: nulMessage(where), extensions: { code: ErrorCode.BAD_USER_INPUT, path: where } }] });
};

export function nulMessage(where: string): string {
  return `NUL characters (\\u0000) are not accepted in text or config values (found in ${where})`;
}

/** Malformed or oversized bodies get a GraphQL-shaped error, not an HTML page. */
function bodyErrorHandler(maxBodyBytes: number): ErrorRequestHandler {
  return (error: { type?: string; status?: number }, _req, res, next) => {
    if (res.headersSent) return next(error);
    const tooLarge = error.type === 'entity.too.large';
    const message = tooLarge
      ? `request body is larger than the limit of ${maxBodyBytes} bytes`
      : error.type === 'entity.parse.failed'
        ? 'request body is not valid JSON'
        : 'request body could not be read';
    res.status(tooLarge ? 413 : (error.status ?? 400)).json({ errors: [{ message, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
  };
}
