import type { Diagnostic } from '@codemirror/lint';
import { type ParseError, parseTree, printParseErrorCode } from 'jsonc-parser';
import { useEffect, useMemo, useState } from 'react';
import { gql, GqlError } from '../../api/graphql';
import { pointerRange, type TextRange } from './pointer';
import { VALIDATE_CONFIG, type ValidationIssue } from './queries';

/** A problem of the edited config, with where it is in the text (null: nowhere in particular). */
export interface LocatedIssue extends ValidationIssue {
  range: TextRange | null;
}

export type CheckState =
  /** Waiting for the typing to pause, or for the server's answer. */
  | 'checking'
  /** Not JSON, or not an object: not sent anywhere. */
  | 'malformed'
  /** The bound schema refuses it. */
  | 'invalid'
  | 'valid'
  /** The check itself failed (the error is shown; publishing is still possible, the server checks again). */
  | 'unchecked';

export interface ConfigCheck {
  state: CheckState;
  issues: LocatedIssue[];
  data: Record<string, unknown> | null;
  error: GqlError | undefined;
}

/** Where each issue sits in `text`. */
export function locate(text: string, issues: readonly ValidationIssue[]): LocatedIssue[] {
  const root = parseTree(text);
  return issues.map((i) => ({ ...i, range: pointerRange(text, i.path, root) }));
}

export function toDiagnostics(issues: readonly LocatedIssue[]): Diagnostic[] {
  return issues.flatMap((i) =>
    i.range ? [{ from: i.range.from, to: i.range.to, severity: 'error' as const, message: i.keyword === 'syntax' ? i.message : `${i.path || '/'}: ${i.message}`, source: i.keyword }] : [],
  );
}

function parseLocally(text: string): { data: Record<string, unknown> } | { issues: LocatedIssue[] } {
  try {
    const data: unknown = JSON.parse(text);
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      return { issues: [{ path: '', keyword: 'type', message: 'the config must be a JSON object ({ … })', range: { from: 0, to: Math.min(1, text.length) } }] };
    }
    return { data: data as Record<string, unknown> };
  } catch (e) {
    const errors: ParseError[] = [];
    parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
    const issues: LocatedIssue[] = errors.slice(0, 5).map((err) => ({
      path: '',
      keyword: 'syntax',
      message: `not JSON: ${printParseErrorCode(err.error)}`,
      range: { from: err.offset, to: err.offset + Math.max(err.length, 1) },
    }));
    if (issues.length === 0) issues.push({ path: '', keyword: 'syntax', message: `not JSON: ${e instanceof Error ? e.message : String(e)}`, range: null });
    return { issues };
  }
}

/**
 * Checks the edited text as the user types (after a pause): JSON syntax and
 * "an object" locally, then the bound schema's every error with
 * `validateConfig`, each located at its JSON Pointer in the text.
 */
export function useConfigCheck(text: string, schemaId: string | null): ConfigCheck {
  const [settled, setSettled] = useState(text);
  useEffect(() => {
    const t = setTimeout(() => setSettled(text), 300);
    return () => clearTimeout(t);
  }, [text]);
  const local = useMemo(() => parseLocally(settled), [settled]);
  const [answer, setAnswer] = useState<{ text: string; schemaId: string; issues?: ValidationIssue[]; error?: GqlError }>();

  useEffect(() => {
    if (!schemaId || !('data' in local)) return;
    let live = true;
    gql<{ validateConfig: { valid: boolean; errors: ValidationIssue[] } }>(VALIDATE_CONFIG, { schemaId, data: local.data })
      .then((r) => {
        if (live) setAnswer({ text: settled, schemaId, issues: r.validateConfig.errors });
      })
      .catch((e: unknown) => {
        if (live) setAnswer({ text: settled, schemaId, error: e instanceof GqlError ? e : new GqlError('INTERNAL_SERVER_ERROR', String(e)) });
      });
    return () => {
      live = false;
    };
  }, [local, settled, schemaId]);

  return useMemo((): ConfigCheck => {
    if (settled !== text) return { state: 'checking', issues: [], data: null, error: undefined };
    if (!('data' in local)) return { state: 'malformed', issues: local.issues, data: null, error: undefined };
    if (!schemaId) return { state: 'valid', issues: [], data: local.data, error: undefined };
    if (!answer || answer.text !== settled || answer.schemaId !== schemaId) return { state: 'checking', issues: [], data: local.data, error: undefined };
    if (answer.error) return { state: 'unchecked', issues: [], data: local.data, error: answer.error };
    const issues = locate(settled, answer.issues ?? []);
    return { state: issues.length > 0 ? 'invalid' : 'valid', issues, data: local.data, error: undefined };
  }, [text, settled, local, schemaId, answer]);
}
