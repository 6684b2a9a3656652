import { useState } from 'react';
import { useQuery } from '../../api/use-query';
import type { Connection } from './queries';

/**
 * A Relay connection read page by page with "Load more": the pages loaded so
 * far stay, the next is asked for with `after`. Changing `variables` (the
 * filters) starts again from the first page.
 */
export function usePaged<D, T extends { id: string }>(query: string, variables: Record<string, unknown>, select: (data: D) => Connection<T> | null | undefined) {
  const key = JSON.stringify(variables);
  const [seen, setSeen] = useState(key);
  const [after, setAfter] = useState<string | null>(null);
  const [earlier, setEarlier] = useState<T[]>([]);
  if (seen !== key) {
    setSeen(key);
    setAfter(null);
    setEarlier([]);
  }
  const q = useQuery<D>(query, { ...variables, after });
  const page = q.data ? select(q.data) : undefined;
  const ids = new Set<string>();
  const items = [...earlier, ...(page?.edges.map((e) => e.node) ?? [])].filter((n) => !ids.has(n.id) && ids.add(n.id));
  const endCursor = page?.pageInfo.endCursor ?? null;
  return {
    data: q.data,
    error: q.error,
    /** The first page is loading (a later one: `loadingMore`). */
    loading: q.loading && after === null,
    loadingMore: q.loading && after !== null,
    items,
    totalCount: page?.totalCount,
    hasMore: !q.loading && (page?.pageInfo.hasNextPage ?? false),
    loadMore() {
      if (!endCursor) return;
      setEarlier(items);
      setAfter(endCursor);
    },
    reload: q.reload,
  };
}
