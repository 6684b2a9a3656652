import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DomainError } from '../domain/errors.js';
import type { ConfigFeedService } from '../delivery/config-feed.service.js';
import type { GraphQLContext } from '../schema/context.js';
import { createErrorFormatter, toGraphQLError } from '../schema/format-error.js';
import type { CallerGate } from './caller-gate.js';
import { bodyErrorHandler, refuseUnsafeRequests } from './request-guards.js';
import { consoleRoutes, findConsoleDirectory } from './console-routes.js';
import { operationGuardsPlugin } from './operation-guards.js';
import { requestLogPlugin } from './request-log.js';
import { checkQueryCost, type QueryLimits, queryLimitRules } from './validation-rules.js';
import { attachWebSocketServer } from '../delivery/websocket-server.js';

export interface HttpServerOptions {
  schema: GraphQLSchema;
  gate: CallerGate;
  feeds: ConfigFeedService;
  logger: Logger;
  limits: QueryLimits & { maxBodyBytes: number };
  /** Answers /readyz: throws when a dependency is down. */
  checkReady: () => Promise<void>;
  /** Answers /metrics (Prometheus text format). */
  metrics: { render(): Promise<string>; contentType: string };
  /** Websocket close reasons then never carry an internal error's message. */
  production: boolean;
}

export interface RunningHttpServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** One HTTP server: GraphQL over HTTP and graphql-ws on the same port, plus health endpoints. */
export async function startHttpServer(o: HttpServerOptions, listen: { host: string; port: number; backlog: number }): Promise<RunningHttpServer> {
  const { host, port, backlog } = listen;
  const app = express();
  app.disable('x-powered-by');
  const server = http.createServer(app);
  const formatError = createErrorFormatter(o.logger);
  const rules = queryLimitRules(o.limits);
  const ws = attachWebSocketServer(server, {
    schema: o.schema,
    gate: o.gate,
    feeds: o.feeds,
    rules,
    checkCost: (document, operationName, variables) => checkQueryCost(o.limits, o.schema, document, operationName, variables),
    maxPayloadBytes: o.limits.maxBodyBytes,
    formatError,
    logger: o.logger,
    production: o.production,
  });

  const apollo = new ApolloServer<GraphQLContext>({
    schema: o.schema,
    validationRules: rules,
    formatError,
    includeStacktraceInErrorResponses: false,
    // main.ts owns the signals and stops everything in order.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      // Browsers get the bundled GraphiQL at /graphql (console-routes.ts), not Apollo's CDN-loaded page.
      ApolloServerPluginLandingPageDisabled(),
      requestLogPlugin(o.logger),
      { serverWillStart: async () => ({ drainServer: () => ws.dispose() }) },
      operationGuardsPlugin(o.limits, o.schema),
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
  app.get('/metrics', async (_req, res) => {
    try {
      res.type(o.metrics.contentType).send(await o.metrics.render());
    } catch (error) {
      o.logger.warn({ err: error }, 'rendering /metrics failed');
      res.status(500).type('text/plain').send('metrics unavailable\n');
    }
  });
  app.use(consoleRoutes(findConsoleDirectory()));
  app.use(
    '/graphql',
    express.json({ limit: o.limits.maxBodyBytes }),
    refuseUnsafeRequests,
    expressMiddleware(apollo, {
      context: async ({ req }): Promise<GraphQLContext> => {
        try {
          const admitted = await o.gate.admit(req.headers.authorization, req.socket.remoteAddress);
          return { principal: admitted.principal, tokenExpiresAtMs: admitted.expiresAtMs, feeds: o.feeds };
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
    server.listen({ port, host, backlog }, () => resolve());
  });
  const actualPort = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${actualPort}/graphql`,
    port: actualPort,
    stop: () => apollo.stop(),
  };
}
