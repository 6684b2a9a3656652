import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ErrorCode } from '../domain/errors.js';
import { findNulCharacter } from '../domain/text.js';

export function nulMessage(where: string): string {
  return `NUL characters (\\u0000) are not accepted in text or config values (found in ${where})`;
}

/** PostgreSQL stores no NUL characters: refuse a request carrying one (body or query string) before anything runs. */
export const refuseNulCharacters: RequestHandler = (req, res, next) => {
  const where = findNulCharacter({ body: req.body as unknown, query: req.query });
  if (where === null) return next();
  res.status(400).json({ errors: [{ message: nulMessage(where), extensions: { code: ErrorCode.BAD_USER_INPUT, path: where } }] });
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
