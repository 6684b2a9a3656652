import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Received<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  /** 'error' when the server refused the operation with an `error` message, 'next' for a result. */
  via?: 'next' | 'error';
}

/** A subscription whose messages queue up until a test takes them, with a timeout. */
export interface TestSubscription<T> {
  next(timeoutMs?: number): Promise<Received<T>>;
  /** Every message received so far and not yet taken. */
  readonly pending: Array<Received<T>>;
  /** Resolves when the server completes the subscription (or it errors). */
  readonly ended: Promise<void>;
  close(): void;
}

export interface TestWsClient {
  client: Client;
  subscribe<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): TestSubscription<T>;
  /** A query or mutation over the websocket. */
  request<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<Received<T>>;
  /** Resolves with the close event's code when the socket closes. */
  closed: Promise<number>;
  dispose(): Promise<void>;
}

/** A graphql-ws client for tests: connects lazily with `token` in the connection params. */
export function connectWs(httpUrl: string, token: string | null, options: { retryAttempts?: number; lazy?: boolean } = {}): TestWsClient {
  let resolveClosed: (code: number) => void = () => {};
  const closed = new Promise<number>((r) => (resolveClosed = r));
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: options.retryAttempts ?? 0,
    lazy: options.lazy ?? true,
    on: { closed: (event) => resolveClosed((event as { code: number }).code) },
  });
  const subscribe = <T>(query: string, variables: Record<string, unknown> = {}): TestSubscription<T> => {
    const pending: Array<Received<T>> = [];
    const waiters: Array<(m: Received<T>) => void> = [];
    let endResolve: () => void = () => {};
    const ended = new Promise<void>((r) => (endResolve = r));
    const push = (m: Received<T>) => {
      const w = waiters.shift();
      if (w) w(m);
      else pending.push(m);
    };
    const unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (m) => push({ ...(m as Received<T>), via: 'next' }),
        error: (e) => {
          push({ via: 'error', errors: Array.isArray(e) ? (e as Received<T>['errors']) : [{ message: String((e as Error)?.message ?? e) }] });
          endResolve();
        },
        complete: () => endResolve(),
      },
    );
    return {
      pending,
      ended,
      close: unsubscribe,
      next(timeoutMs = 5000) {
        const ready = pending.shift();
        if (ready) return Promise.resolve(ready);
        return new Promise((resolve, reject) => {
          const waiter = (m: Received<T>) => {
            clearTimeout(timer);
            resolve(m);
          };
          const timer = setTimeout(() => {
            waiters.splice(waiters.indexOf(waiter), 1);
            reject(new Error(`no subscription message within ${timeoutMs} ms`));
          }, timeoutMs);
          waiters.push(waiter);
        });
      },
    };
  };
  return {
    client,
    subscribe,
    closed,
    async request<T>(query: string, variables: Record<string, unknown> = {}) {
      const sub = subscribe<T>(query, variables);
      const first = await sub.next();
      sub.close();
      return first;
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}
