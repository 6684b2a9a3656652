import { type Client, createClient } from 'graphql-ws/client';
import { backoffDelay, type BackoffOptions, sleep } from './backoff.js';
import { GraphQLRequestError, readTokenClaims } from './graphql-http.js';
import { CONFIG_UPDATES, type Identity } from './operations.js';
import type { OutageReporter } from './outage-reporter.js';
import { ConfigClientError, type ClientLogger, type ConfigUpdate } from './types.js';

/** graphql-ws's close code for a refused or expired token. */
const FORBIDDEN_CLOSE = 4403;

/** Subscription refusals that reconnecting cannot fix: the instance is gone, or the token is not its own. */
const REFUSAL_CODES = new Set(['FORBIDDEN', 'NOT_FOUND', 'UNAUTHENTICATED']);

export interface SessionHandlers {
  /** A config arrived. */
  update(update: ConfigUpdate): void;
  /** HotSwap acknowledged the connection (on the first connect and on each reconnect). */
  connected(): void;
  /** HotSwap refused this instance (FORBIDDEN, NOT_FOUND, or an expired token); the session is over. */
  refused(error: ConfigClientError): void;
  /** The subscription ended for another reason; the session is over and the owner may open a new one. */
  ended(error: unknown): void;
}

export interface SessionOptions {
  wsUrl: string;
  identity: Identity;
  webSocketImpl: unknown;
  backoff: BackoffOptions;
  requestTimeoutMs: number;
  logger: ClientLogger;
  /** Connects and drops of the websocket are reported here, once per outage. */
  outage: OutageReporter;
}

/** The websocket is not connected (or closed while a request was under way): use HTTP instead. */
export class SocketUnavailableError extends Error {
  override readonly name = 'SocketUnavailableError';
}

/**
 * One graphql-ws connection for one instance identity, holding the
 * `configUpdates` subscription. graphql-ws reconnects by itself (forever, with
 * our backoff) and resubscribes; the session ends only on a refusal, on an error
 * graphql-ws does not retry, or on close(). A new identity needs a new session,
 * since the token is sent at connection_init.
 */
export class SubscriptionSession {
  private client: Client | undefined;
  private unsubscribe: () => void = () => {};
  private isConnected = false;
  private finished = false;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<() => void>();

  constructor(
    private readonly o: SessionOptions,
    private readonly on: SessionHandlers,
  ) {}

  get connected(): boolean {
    return this.isConnected && !this.finished;
  }

  open(): void {
    const { identity, logger, outage } = this.o;
    const client = createClient({
      url: this.o.wsUrl,
      webSocketImpl: this.o.webSocketImpl,
      connectionParams: () => ({ authorization: `Bearer ${identity.token}` }),
      lazy: true,
      retryAttempts: Infinity,
      // Network errors and closes are retried; an expired token is not (it would be refused forever).
      shouldRetry: (error) => !this.finished && !isExpiredTokenClose(error, identity.token),
      retryWait: (retries) => sleep(backoffDelay(retries, this.o.backoff), this.abort.signal),
      on: {
        connected: () => {
          this.isConnected = true;
          if (this.finished) return;
          outage.reached();
          this.on.connected();
        },
        closed: (event) => {
          const wasConnected = this.isConnected;
          this.isConnected = false;
          for (const cancel of [...this.inFlight]) cancel();
          if (this.finished) return;
          // 1xxx: the network or the server went away (1006 is also every failed connect), so retrying may fix it; 4xxx: HotSwap closed it on purpose.
          if (!isCloseEvent(event) || event.code < 4000) outage.failed(wasConnected ? 'connection to HotSwap lost' : 'could not connect to HotSwap', closeDetails(event));
          else if (wasConnected) logger.warn('HotSwap closed the connection', closeDetails(event));
        },
      },
    });
    this.client = client;
    this.unsubscribe = client.subscribe<{ configUpdates: ConfigUpdate }>(
      { query: CONFIG_UPDATES, variables: { instanceId: identity.instanceId } },
      {
        next: (result) => {
          if (result.errors?.length) return this.finish(GraphQLRequestError.fromErrors(result.errors));
          if (result.data?.configUpdates && !this.finished) this.on.update(result.data.configUpdates);
        },
        error: (error) => this.finish(error),
        complete: () => this.finish(new ConfigClientError('HotSwap ended the config subscription', 'COMPLETED')),
      },
    );
  }

  /**
   * A query or mutation over this session's socket. Rejects with
   * SocketUnavailableError when the socket is down, closes meanwhile, or
   * answers nothing within the timeout; with GraphQLRequestError when refused.
   */
  request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const client = this.client;
    if (!client || !this.connected) return Promise.reject(new SocketUnavailableError('the websocket is not connected'));
    return new Promise<T>((resolve, reject) => {
      let result: { data?: unknown; errors?: ReadonlyArray<{ message?: unknown; extensions?: { code?: unknown } }> } | undefined;
      let unsubscribe: () => void = () => {};
      const settle = (outcome: () => void) => {
        if (!this.inFlight.delete(cancel)) return;
        clearTimeout(timer);
        unsubscribe();
        outcome();
      };
      const cancel = () => settle(() => reject(new SocketUnavailableError('the websocket closed during the request')));
      const timer = setTimeout(
        () => settle(() => reject(new SocketUnavailableError(`no answer over the websocket within ${this.o.requestTimeoutMs} ms`))),
        this.o.requestTimeoutMs,
      );
      this.inFlight.add(cancel);
      unsubscribe = client.subscribe(
        { query, variables },
        {
          next: (r) => (result = r),
          error: (error) =>
            settle(() => reject(Array.isArray(error) ? GraphQLRequestError.fromErrors(error) : new SocketUnavailableError(toError(error).message))),
          complete: () =>
            settle(() => (result?.errors?.length ? reject(GraphQLRequestError.fromErrors(result.errors)) : resolve(result?.data as T))),
        },
      );
    });
  }

  /** Ends the subscription and the socket; pending requests fail with SocketUnavailableError. Idempotent. */
  close(): void {
    this.finished = true;
    this.isConnected = false;
    for (const cancel of [...this.inFlight]) cancel();
    this.unsubscribe();
    this.abort.abort();
    // Not awaited: dispose waits for a connect attempt in flight, which may take long against an unreachable host.
    void this.client?.dispose()?.catch(() => {});
  }

  private finish(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.isConnected = false;
    const refusal = asRefusal(error, this.o.identity.token);
    this.close();
    if (refusal) this.on.refused(refusal);
    else this.on.ended(toError(error));
  }
}

function isCloseEvent(v: unknown): v is { code: number; reason: string } {
  return typeof v === 'object' && v !== null && 'code' in v && typeof v.code === 'number' && 'reason' in v;
}

function isExpiredTokenClose(error: unknown, token: string): boolean {
  if (!isCloseEvent(error) || error.code !== FORBIDDEN_CLOSE) return false;
  const exp = readTokenClaims(token)?.exp;
  return exp !== undefined && exp * 1000 <= Date.now();
}

function asRefusal(error: unknown, token: string): ConfigClientError | undefined {
  const refused = Array.isArray(error) ? GraphQLRequestError.fromErrors(error) : error;
  if (refused instanceof GraphQLRequestError && REFUSAL_CODES.has(refused.code)) {
    return new ConfigClientError(refused.message, refused.code, { cause: refused });
  }
  if (isExpiredTokenClose(error, token)) {
    return new ConfigClientError('the instance token expired (HotSwap closed the websocket with 4403)', 'UNAUTHENTICATED');
  }
  return undefined;
}

function toError(error: unknown): Error {
  if (error instanceof Error) return error;
  if (Array.isArray(error)) return GraphQLRequestError.fromErrors(error as Array<{ message?: unknown }>);
  if (isCloseEvent(error)) return new ConfigClientError(`the websocket closed: ${error.code} ${error.reason}`.trim(), `CLOSE_${error.code}`);
  return new Error(String(error));
}

function closeDetails(event: unknown): Record<string, unknown> {
  return isCloseEvent(event) ? { code: event.code, reason: event.reason } : {};
}
