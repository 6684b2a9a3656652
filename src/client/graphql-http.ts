/** Codes after which the same request will not succeed by itself; everything else may be retried. */
const PERMANENT_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'VALIDATION_FAILED', 'CONFLICT']);

/** A GraphQL operation that failed: `code` is the first error's `extensions.code`, or NETWORK / HTTP_<status>. */
export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GraphQLRequestError';
  }

  /** True when retrying later may succeed (network, rate limit, server unavailable). */
  get transient(): boolean {
    return !PERMANENT_CODES.has(this.code);
  }

  static fromErrors(errors: ReadonlyArray<{ message?: unknown; extensions?: { code?: unknown } }>): GraphQLRequestError {
    const first = errors[0];
    const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
    return new GraphQLRequestError(typeof first?.message === 'string' ? first.message : 'GraphQL error', code);
  }
}

/** The message and code of any error, for logs and acks. */
export function describeError(error: unknown): { message: string; code?: string } {
  if (error instanceof GraphQLRequestError) return { message: error.message, code: error.code };
  if (error instanceof Error) return { message: error.message };
  return { message: String(error) };
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }>;
}

/** Queries and mutations over HTTP POST, with a bearer token and a timeout. */
export class GraphQLHttp {
  constructor(
    private readonly url: string,
    private readonly fetchImpl: typeof fetch,
    private readonly timeoutMs: number,
  ) {}

  async request<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new GraphQLRequestError(`HotSwap is unreachable at ${this.url}: ${describeError(error).message}`, 'NETWORK', { cause: error });
    }
    let body: GraphQLResponse<T>;
    try {
      body = (await res.json()) as GraphQLResponse<T>;
    } catch (error) {
      throw new GraphQLRequestError(`HotSwap answered HTTP ${res.status} without a GraphQL body`, `HTTP_${res.status}`, { cause: error });
    }
    if (body.errors?.length) throw GraphQLRequestError.fromErrors(body.errors);
    if (body.data === undefined || body.data === null) {
      throw new GraphQLRequestError(`HotSwap answered HTTP ${res.status} without data`, `HTTP_${res.status}`);
    }
    return body.data;
  }
}

/** The `ws(s)://` URL of the same endpoint. */
export function toWebSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`url must be an http(s) URL of HotSwap's /graphql endpoint, got "${url.protocol}"`);
  }
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** The claims of a JWT, read without verifying it (the server verifies); null when it is not a JWT. */
export function readTokenClaims(token: string): { instanceId?: string; exp?: number } | null {
  const payload = token.split('.')[1];
  if (payload === undefined) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    if (typeof claims !== 'object' || claims === null) return null;
    const { instanceId, exp } = claims as Record<string, unknown>;
    return {
      ...(typeof instanceId === 'string' ? { instanceId } : {}),
      ...(typeof exp === 'number' ? { exp } : {}),
    };
  } catch {
    return null;
  }
}
