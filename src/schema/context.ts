import type { Principal } from '../domain/authorization.js';
import type { ConfigFeedService } from '../delivery/config-feed.service.js';

/** Per-operation context, built from the HTTP request or the websocket connection. */
export interface GraphQLContext {
  /** The verified caller; undefined for a request without a token. */
  principal: Principal | undefined;
  /** When the caller's token expires (epoch ms); null without a token, absent where unknown. */
  tokenExpiresAtMs?: number | null;
  /**
   * The live feeds, for subscription `subscribe` functions (type-graphql calls
   * them without a resolver instance).
   */
  feeds: ConfigFeedService;
}
