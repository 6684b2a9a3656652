import type { Principal } from '../domain/authorization.js';

/** Per-operation context, built from the HTTP request or the websocket connection. */
export interface GraphQLContext {
  /** The verified caller; undefined for a request without a token. */
  principal: Principal | undefined;
}
