import { currentToken, endSession } from '../auth/session';

/** The service's GraphQL endpoint, on the host that served the console. */
export const GRAPHQL_PATH = '/graphql';

/** One GraphQL error as the service sends it: the message and `extensions.code`. */
export interface GqlErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

/** A refused or failed request: shown as its code and message, never as a blank page. */
export class GqlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly errors: readonly GqlErrorEntry[] = [],
  ) {
    super(message);
  }
}

/** Runs a query or mutation with the session's token; throws {@link GqlError} on any error. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const token = currentToken();
  let res: Response;
  try {
    res = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new GqlError('UNREACHABLE', `HotSwap did not answer: ${error instanceof Error ? error.message : String(error)}`);
  }
  let body: { data?: T | null; errors?: GqlErrorEntry[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new GqlError(`HTTP_${res.status}`, `HotSwap answered ${res.status} ${res.statusText} without a GraphQL body`);
  }
  const first = body.errors?.[0];
  if (first) {
    const error = new GqlError(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR', first.message, body.errors);
    // The session's token expired or was revoked: back to the sign-in page, saying why.
    if (token && error.code === 'UNAUTHENTICATED') endSession(error);
    throw error;
  }
  if (body.data === undefined || body.data === null) throw new GqlError(`HTTP_${res.status}`, 'HotSwap answered without data');
  return body.data;
}
