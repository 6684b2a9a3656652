import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { CliError, ExitCode } from './exit-codes.js';

interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; errors?: Array<{ path: string; message: string; keyword?: string }> } & Record<string, unknown>;
}

/** Codes that mean HotSwap could not answer, rather than refused. */
const UNREACHABLE_CODES = new Set(['UNAVAILABLE', 'INTERNAL_SERVER_ERROR']);

/** Talks to the GraphQL API: HTTP for queries and mutations, graphql-ws for following. */
export class CliGraphQL {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw unreachable(this.url, error);
    }
    let body: { data?: T | null; errors?: GraphQLErrorShape[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new CliError([`HotSwap at ${this.url} answered HTTP ${res.status} without a GraphQL response`], ExitCode.UNREACHABLE);
    }
    if (body.errors?.length) throw refusal(body.errors);
    if (!res.ok || body.data === undefined || body.data === null) {
      throw new CliError([`HotSwap at ${this.url} answered HTTP ${res.status} without data`], ExitCode.UNREACHABLE);
    }
    return body.data;
  }

  /**
   * Subscribes over graphql-ws; `onNext` gets every result. Resolves when the
   * server completes the subscription or `stop()` is called; rejects with a
   * CliError on refusal or a lost connection.
   */
  subscribe<T>(query: string, variables: Record<string, unknown>, onNext: (data: T) => void): { done: Promise<void>; stop: () => void } {
    const client = createClient({
      url: this.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${this.token}` },
      retryAttempts: 5,
      shouldRetry: () => true,
      lazy: true,
    });
    let stop: () => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      const unsubscribe = client.subscribe<T>(
        { query, variables },
        {
          next: (result) => {
            if (result.errors?.length) reject(refusal(result.errors as GraphQLErrorShape[]));
            else if (result.data) onNext(result.data as T);
          },
          error: (error: unknown) => reject(wsError(this.url, error)),
          complete: () => resolve(),
        },
      );
      stop = () => {
        unsubscribe();
        resolve();
      };
    }).finally(() => void client.dispose());
    return { done, stop: () => stop() };
  }
}

/** One line per problem; validation errors one line per JSON Pointer path. */
function refusal(errors: GraphQLErrorShape[]): CliError {
  const lines: string[] = [];
  let exitCode: ExitCode = ExitCode.REFUSED;
  for (const e of errors) {
    const code = e.extensions?.code ?? 'ERROR';
    if (UNREACHABLE_CODES.has(code)) exitCode = ExitCode.UNREACHABLE;
    lines.push(`${code}: ${e.message}`);
    for (const v of e.extensions?.errors ?? []) lines.push(`  ${v.path === '' ? '/' : v.path}: ${v.message}${v.keyword ? ` (${v.keyword})` : ''}`);
  }
  return new CliError(lines, exitCode);
}

function unreachable(url: string, error: unknown): CliError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new CliError([`cannot reach HotSwap at ${url}: ${why}`], ExitCode.UNREACHABLE);
}

function wsError(url: string, error: unknown): CliError {
  if (Array.isArray(error)) return refusal(error as GraphQLErrorShape[]);
  const code = (error as { code?: number }).code;
  if (code === 4403) return new CliError(['UNAUTHENTICATED: the token was refused (missing, invalid or expired)'], ExitCode.REFUSED);
  const reason = (error as { reason?: string }).reason;
  return new CliError([`lost the connection to HotSwap at ${url}${reason ? `: ${reason}` : code ? ` (close code ${code})` : ''}`], ExitCode.UNREACHABLE);
}
