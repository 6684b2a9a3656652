/**
 * What of an unexpected error goes into the log: its kind, codes and stack
 * frames, never its message when it comes from the database driver (that
 * message carries the SQL with its parameters: config bodies, descriptions).
 */
export function describeForLog(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: typeof error };
  const e = error as Error & { code?: unknown; sqlState?: unknown; table?: unknown; constraint?: unknown };
  const fromDriver = e.sqlState !== undefined || /Exception$/.test(e.name);
  return {
    name: e.name,
    code: e.code,
    sqlState: e.sqlState,
    table: e.table,
    constraint: e.constraint,
    message: fromDriver ? undefined : e.message,
    stack: e.stack?.split('\n').slice(1, 8).join('\n'),
  };
}
