import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ErrorCode } from '../domain/errors.js';
import { jsonDepth } from '../domain/json.js';
import { findNulCharacter } from '../domain/text.js';

export function nulMessage(where: string): string {
  return `NUL characters (\\u0000) are not accepted in text or config values (found in ${where})`;
}

/** Deepest nesting a request may have (configs are limited to far less; this guards the GraphQL layer's recursion). */
export const MAX_REQUEST_DEPTH = 256;

/**
 * Why a request (body and query string, or a websocket payload) is refused
 * before anything runs, or null: a NUL character (PostgreSQL stores none), or
 * nesting deep enough to overflow recursive argument handling.
 */
export function refusalOf(request: unknown): string | null {
  if (jsonDepth(request, MAX_REQUEST_DEPTH) > MAX_REQUEST_DEPTH) return `the request is nested too deeply (more than ${MAX_REQUEST_DEPTH} levels)`;
  const where = findNulCharacter(request);
  return where === null ? null : nulMessage(where);
}

export const refuseUnsafeRequests: RequestHandler = (req, res, next) => {
  const refusal = refusalOf({ body: req.body as unknown, query: req.query });
  if (refusal === null) return next();
  res.status(400).json({ errors: [{ message: refusal, extensions: { code: ErrorCode.BAD_USER_INPUT } }] });
};

/** Malformed or oversized bodies get a GraphQL-shaped error, not an HTML page. */
export function bodyErrorHandler(maxBodyBytes: number): ErrorRequestHandler {
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
