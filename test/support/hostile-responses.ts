import { expect } from 'vitest';
import type { GqlResponse } from './server.js';

/** Checking what the server answers to hostile input (test/security). */

/** What a body must never show: a stack frame, a source file, a dependency path. */
export const LEAKS = ['    at ', '.ts:', '.js:', 'node_modules', 'stacktrace', '/work/', 'file://'];

/** Codes a refusal may carry when the database and everything else are up. */
export const ALLOWED_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'VALIDATION_FAILED', 'NOT_FOUND', 'CONFLICT']);

export interface RawResponse {
  status: number;
  text: string;
  body: GqlResponse | null;
}

/** POSTs `body` (already JSON text, or anything) to /graphql with `token`; never throws on a bad answer. */
export async function postRaw(url: string, body: string, token: string | null, headers: Record<string, string> = {}): Promise<RawResponse> {
  const h: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers: h, body });
  const text = await res.text();
  let parsed: GqlResponse | null;
  try {
    parsed = JSON.parse(text) as GqlResponse;
  } catch {
    parsed = null;
  }
  return { status: res.status, text, body: parsed };
}

/**
 * Checks a response to hostile input: not a server error, JSON, no leak (unless
 * the request itself carried that text, which an error may echo), and every
 * error carries an allowed `extensions.code`.
 */
export function expectSafeResponse(res: RawResponse, requestText: string, allowed: ReadonlySet<string> = ALLOWED_CODES): void {
  const context = `HTTP ${res.status}: ${res.text.slice(0, 600)}`;
  expect(res.status, context).toBeLessThan(500);
  expect(res.body, `expected a JSON body; ${context}`).not.toBeNull();
  expect(typeof res.body, context).toBe('object');
  for (const leak of LEAKS) {
    if (!requestText.includes(leak)) expect(res.text.includes(leak), `the response leaks "${leak}": ${context}`).toBe(false);
  }
  expect(res.text, context).not.toContain('INTERNAL_SERVER_ERROR');
  const errors = res.body?.errors;
  if (errors === undefined) return;
  expect(Array.isArray(errors), context).toBe(true);
  expect(errors.length, context).toBeGreaterThan(0);
  for (const error of errors) {
    expect(typeof error.message, context).toBe('string');
    const code = error.extensions?.code;
    expect(typeof code === 'string' && allowed.has(code), `unexpected code ${String(code)}; ${context}`).toBe(true);
  }
}

/** True when the operation `field` was refused: errors and no value for the field. */
export function wasRefused(res: RawResponse, field: string): boolean {
  const value = (res.body?.data as Record<string, unknown> | null | undefined)?.[field];
  return res.body?.errors !== undefined && (value === undefined || value === null);
}
