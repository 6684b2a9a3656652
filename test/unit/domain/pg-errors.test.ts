import { describe, expect, it } from 'vitest';
import { isConnectionFailure, isInvalidUnicode, isUnstorableText } from '../../../src/store/pg-errors.js';

/** An error shaped like the ones node-postgres throws (fields as PostgreSQL 15 sends them). */
function pgError(code: string, message: string, detail?: string): Error {
  return Object.assign(new Error(message), { code, detail });
}

describe('isInvalidUnicode', () => {
  it('matches PostgreSQL refusing a lone surrogate in jsonb (the text is in detail)', () => {
    // select '"\ud800"'::jsonb
    const err = pgError('22P02', 'invalid input syntax for type json', 'Unicode low surrogate must follow a high surrogate.');
    expect(isInvalidUnicode(err)).toBe(true);
    expect(isInvalidUnicode(pgError('22P02', 'invalid input syntax for type json', 'Unicode high surrogate must not follow a high surrogate.'))).toBe(true);
  });

  it('matches when the words are in the message, and through wrappers and causes', () => {
    expect(isInvalidUnicode(pgError('22P02', 'invalid Unicode surrogate pair'))).toBe(true);
    const driver = pgError('22P02', 'invalid input syntax for type json', 'Unicode low surrogate must follow a high surrogate.');
    expect(isInvalidUnicode(new Error('insert failed', { cause: driver }))).toBe(true);
  });

  it('does not match other 22P02 errors or other codes', () => {
    expect(isInvalidUnicode(pgError('22P02', 'invalid input syntax for type uuid: "x"'))).toBe(false);
    expect(isInvalidUnicode(pgError('22P02', 'invalid input syntax for type json', 'Token "bad" is invalid.'))).toBe(false);
    expect(isInvalidUnicode(pgError('22P05', 'unsupported Unicode escape sequence', '\\u0000 cannot be converted to text.'))).toBe(false);
    expect(isInvalidUnicode(new Error('Unicode surrogate'))).toBe(false);
    expect(isInvalidUnicode('22P02 Unicode')).toBe(false);
    expect(isInvalidUnicode(null)).toBe(false);
  });

  it('stays separate from isUnstorableText (NUL characters)', () => {
    expect(isUnstorableText(pgError('22P05', 'unsupported Unicode escape sequence'))).toBe(true);
    expect(isUnstorableText(pgError('22P02', 'invalid input syntax for type json', 'Unicode low surrogate must follow a high surrogate.'))).toBe(false);
  });
});

describe('isConnectionFailure', () => {
  it('matches socket codes and PostgreSQL shutdown codes, through wrappers', () => {
    expect(isConnectionFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isConnectionFailure(new Error('query failed', { cause: pgError('57P01', 'terminating connection due to administrator command') }))).toBe(true);
  });

  it('matches the code-less messages of a connection lost in the middle of a transaction', () => {
    // Both seen with PostgreSQL stopped between two statements of a transaction (test/chaos/postgres-outage.test.ts).
    expect(isConnectionFailure(new Error('Transaction query already complete, run with DEBUG=knex:tx for more info'))).toBe(true);
    expect(isConnectionFailure(new Error('COMMIT; - Client has encountered a connection error and is not queryable'))).toBe(true);
    expect(isConnectionFailure(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('does not match constraint or syntax errors', () => {
    expect(isConnectionFailure(pgError('23505', 'duplicate key value violates unique constraint "x"'))).toBe(false);
    expect(isConnectionFailure(pgError('42601', 'syntax error at or near "selec"'))).toBe(false);
    expect(isConnectionFailure(null)).toBe(false);
  });
});
