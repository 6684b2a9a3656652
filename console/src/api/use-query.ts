import { useCallback, useEffect, useRef, useState } from 'react';
import { gql, GqlError } from './graphql';

export interface QueryState<T> {
  data: T | undefined;
  error: GqlError | undefined;
  loading: boolean;
  /** Runs the query again (after a mutation, or to catch up after a reconnect). */
  reload(): void;
}

/** Runs `query` when the component mounts and whenever `variables` change (compared as JSON). */
export function useQuery<T>(query: string, variables: Record<string, unknown> = {}, options: { skip?: boolean } = {}): QueryState<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<GqlError>();
  const [loading, setLoading] = useState(!options.skip);
  const [round, setRound] = useState(0);
  const key = JSON.stringify(variables);
  const latest = useRef(0);
  useEffect(() => {
    if (options.skip) return;
    const ticket = ++latest.current;
    setLoading(true);
    gql<T>(query, JSON.parse(key) as Record<string, unknown>)
      .then((d) => {
        if (ticket !== latest.current) return;
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (ticket !== latest.current) return;
        setError(e instanceof GqlError ? e : new GqlError('INTERNAL_SERVER_ERROR', String(e)));
      })
      .finally(() => {
        if (ticket === latest.current) setLoading(false);
      });
  }, [query, key, round, options.skip]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data, error, loading, reload };
}

/** A mutation: `run` resolves with the data, or sets `error` and resolves undefined. */
export function useMutation<T>(query: string): {
  run(variables: Record<string, unknown>): Promise<T | undefined>;
  busy: boolean;
  error: GqlError | undefined;
  clearError(): void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<GqlError>();
  const run = useCallback(
    async (variables: Record<string, unknown>) => {
      setBusy(true);
      setError(undefined);
      try {
        return await gql<T>(query, variables);
      } catch (e) {
        setError(e instanceof GqlError ? e : new GqlError('INTERNAL_SERVER_ERROR', String(e)));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [query],
  );
  return { run, busy, error, clearError: useCallback(() => setError(undefined), []) };
}
