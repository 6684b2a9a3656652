import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ErrorCode } from '../domain/errors.js';
import { jsonDepth } from '../domain/json.js';
import { findNulCharacter } from '../domain/text.js';
import { documentNestingExceeds, NESTED_TOO_DEEPLY } from './document-nesting.js';

export function nulMessage(where: string): string {
  return `NUL characters (\\u0000) are not accepted in text or config values (found in ${where})`;
}

/**
 * Deepest nesting a request may have, in its JSON and in its GraphQL document
 * (configs are limited to far less; this guards the recursion of JSON handling
 * and of graphql-js's parser and validation).
 */
export const MAX_REQUEST_DEPTH = 256;

/**
 * Why a request (body and query string, or a websocket payload) is refused
 * before anything runs, or null: nesting deep enough to overflow recursive
 * handling, in the JSON or in the GraphQL `document`, or a NUL character
 * (PostgreSQL stores none).
 */
export function refusalOf(request: unknown, document: unknown): string | null {
  if (jsonDepth(request, MAX_REQUEST_DEPTH) > MAX_REQUEST_DEPTH) return `the request is nested too deeply (more than ${MAX_REQUEST_DEPTH} levels)`;
  if (typeof document === 'string' && documentNestingExceeds(document, MAX_REQUEST_DEPTH)) {
    return NESTED_TOO_DEEPLY(MAX_REQUEST_DEPTH);
  }
  const where = findNulCharacter(request);
  return where === null ? null : nulMessage(where);
}

export const refuseUnsafeRequests: RequestHandler = (req, res, next) => {
  const body = req.body as { query?: unknown } | undefined;
  const refusal = refusalOf({ body, query: req.query }, body?.query ?? req.query.query);
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
