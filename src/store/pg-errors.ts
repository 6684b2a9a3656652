/** Classifies errors from the PostgreSQL driver, whatever wrapped them. */

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08006', '08001', '08003']);
/** PostgreSQL cannot store NUL characters in text or jsonb. */
const UNSTORABLE_TEXT_CODES = new Set(['22021', '22P05']);
/**
 * Messages of connection failures that carry no code: pg's "is not queryable"
 * (a client whose connection broke), and knex's "Transaction query already
 * complete" (the server went away between two statements of a transaction).
 */
const CONNECTION_MESSAGES =
  /Connection terminated|Connection ended unexpectedly|timeout exceeded when trying to connect|is not queryable|Transaction query already complete/i;

function* causes(error: unknown): Generator<Error> {
  let cur: unknown = error;
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    yield cur;
    cur = (cur as { cause?: unknown }).cause;
  }
}

function codeOf(error: Error): unknown {
  return (error as { code?: unknown }).code;
}

/** True for errors that mean PostgreSQL could not be reached or went away. */
export function isConnectionFailure(error: unknown): boolean {
  for (const e of causes(error)) {
    const code = codeOf(e);
    if ((typeof code === 'string' && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/** True when PostgreSQL refused a text value it cannot store (a NUL character). */
export function isUnstorableText(error: unknown): boolean {
  for (const e of causes(error)) {
    const code = codeOf(e);
    if (typeof code === 'string' && UNSTORABLE_TEXT_CODES.has(code)) return true;
  }
  return false;
}

/**
 * PostgreSQL's complaint about a lone UTF-16 surrogate in JSON: SQLSTATE 22P02
 * with message 'invalid input syntax for type json' and a detail such as
 * 'Unicode low surrogate must follow a high surrogate.' (PostgreSQL 15). 22P02
 * alone also covers unrelated casts (a bad uuid), so the text must agree.
 */
const INVALID_UNICODE_CODE = '22P02';
const INVALID_UNICODE_TEXT = /unicode|surrogate/i;

/**
 * True when PostgreSQL refused text that is not well-formed Unicode (a lone
 * surrogate escaped in a jsonb value): SQLSTATE 22P02 whose message or detail
 * mentions "Unicode" or "surrogate". Other 22P02 errors (e.g. an invalid uuid)
 * do not match.
 */
export function isInvalidUnicode(error: unknown): boolean {
  for (const e of causes(error)) {
    if (codeOf(e) !== INVALID_UNICODE_CODE) continue;
    const detail = (e as { detail?: unknown }).detail;
    if (INVALID_UNICODE_TEXT.test(e.message) || (typeof detail === 'string' && INVALID_UNICODE_TEXT.test(detail))) {
      return true;
    }
  }
  return false;
}
