import { type Client, createClient } from 'graphql-ws';
import { currentToken } from '../auth/session';
import { GRAPHQL_PATH, type GqlErrorEntry, GqlError } from './graphql';

/** The socket: open, dropped (being retried), or idle (closed normally: no subscription needs it). */
export type LiveState = 'connected' | 'dropped' | 'idle';

let client: Client | undefined;
let clientToken: string | null = null;
let state: LiveState = 'idle';
const connectionListeners = new Set<(state: LiveState) => void>();
const tell = (next: LiveState) => {
  state = next;
  connectionListeners.forEach((l) => l(next));
};

/**
 * The one websocket of the page (graphql-ws), opened on first use with the
 * session's token and re-opened when the token changes. It retries for ever
 * with backoff, so a restarted server is found again; subscribers are told
 * when it connects (to catch up on what they missed) and when it drops.
 */
function liveClient(): Client {
  const token = currentToken();
  if (client && clientToken === token) return client;
  void client?.dispose();
  clientToken = token;
  const url = new URL(GRAPHQL_PATH, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  client = createClient({
    url: url.toString(),
    connectionParams: () => (token ? { authorization: `Bearer ${token}` } : {}),
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(5000, 300 * 2 ** retries))),
    on: {
      connected: () => tell('connected'),
      // graphql-ws closes with 1000 when the last subscription ends (a finished deployment's feed): nothing is lost.
      closed: (event) => tell((event as { code?: number } | undefined)?.code === 1000 ? 'idle' : 'dropped'),
    },
  });
  return client;
}

/** Called at once with the socket's state, then on every change: each (re)connection, drop or idle close. */
export function onLiveConnection(listener: (state: LiveState) => void): () => void {
  connectionListeners.add(listener);
  listener(state);
  return () => connectionListeners.delete(listener);
}

export interface LiveHandlers<T> {
  next(data: T): void;
  error(error: GqlError): void;
}

/** Subscribes over the shared websocket; returns the unsubscribe function. */
export function subscribe<T>(query: string, variables: Record<string, unknown>, on: LiveHandlers<T>): () => void {
  return liveClient().subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        const errors = result.errors as readonly GqlErrorEntry[] | undefined;
        const first = errors?.[0];
        if (first) on.error(new GqlError(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR', first.message, errors));
        else if (result.data) on.next(result.data);
      },
      error: (error) => {
        const errors = Array.isArray(error) ? (error as GqlErrorEntry[]) : [];
        const first = errors[0];
        on.error(first ? new GqlError(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR', first.message, errors) : new GqlError('UNREACHABLE', 'the live connection to HotSwap failed'));
      },
      complete: () => undefined,
    },
  );
}
