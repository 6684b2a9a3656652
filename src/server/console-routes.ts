import express, { type Request, type Router } from 'express';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the built console is: dist/console, next to the compiled service
 * (dist/src/server → dist/console) or, when the service runs from src/ (tsx,
 * tests), under the checkout's dist/. Null when it was never built.
 */
export function findConsoleDirectory(): string | null {
  const here = import.meta.dirname;
  const candidates = [path.resolve(here, '../../dist/console'), path.resolve(here, '../../console')];
  return candidates.find((dir) => existsSync(path.join(dir, 'index.html')) && existsSync(path.join(dir, 'assets'))) ?? null;
}

/**
 * What the console's pages may load: only this server (scripts, styles, the
 * GraphQL endpoint and its websocket, Monaco's workers), nothing from another host.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Paths that are the service's own, never the console's pages. */
const SERVICE_PATHS = /^\/(?:graphql|healthz|readyz|metrics|assets)(?:\/|$)/;

const wantsPage = (req: Request): boolean => req.accepts(['application/json', 'text/html']) === 'text/html';

/**
 * The console at `/` (a single-page app: its routes all answer with
 * index.html) and GraphiQL at `/graphql` for a browser's GET. GraphQL
 * requests to `/graphql` (POST, or GET with a query) pass through.
 */
export function consoleRoutes(dir: string | null): Router {
  const router = express.Router();
  const page = (file: string) => (req: Request, res: express.Response) => {
    res.set({
      'Content-Security-Policy': CONSOLE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-cache',
    });
    if (dir === null) {
      res
        .status(503)
        .type('text/plain')
        .send('The HotSwap console is not built: run `npm run build` (GraphQL answers at /graphql).\n');
      return;
    }
    res.sendFile(path.join(dir, file));
  };
  router.get('/graphql', (req, res, next) => (wantsPage(req) && req.query.query === undefined ? page('graphiql.html')(req, res) : next()));
  if (dir !== null) {
    // File names carry their content hash: cached for good.
    router.use('/assets', express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '1y', index: false, fallthrough: false }));
  }
  router.get(/.*/, (req, res, next) => (!SERVICE_PATHS.test(req.path) && wantsPage(req) ? page('index.html')(req, res) : next()));
  return router;
}
