import { backoffDelay, type BackoffOptions, sleep } from './backoff.js';
import { describeError, GraphQLRequestError } from './graphql-http.js';
import { type AckVariables, type Identity, type InstanceApi, REPORT_CONFIG_APPLIED } from './operations.js';
import { SocketUnavailableError, type SubscriptionSession } from './subscription-session.js';
import type { ClientLogger } from './types.js';

const HTTP_ACK_ATTEMPTS = 3;

export interface AckRoute {
  /** The live session of `who`, when there is one: acks go over its websocket. */
  session: SubscriptionSession | undefined;
  api: InstanceApi;
  backoff: BackoffOptions;
  logger: ClientLogger;
  /** Aborted when the client stops: ends the wait between HTTP attempts, and the attempts. */
  signal: AbortSignal;
}

/**
 * Sends an ack over the websocket when it is up (no HTTP round trip of its
 * own), else over HTTP, retrying transient failures; false (logged) when it
 * could not be delivered.
 */
export async function deliverAck(route: AckRoute, who: Identity, ack: Omit<AckVariables, 'instanceId'>): Promise<boolean> {
  const variables: AckVariables = { instanceId: who.instanceId, ...ack };
  if (route.session?.connected) {
    try {
      await route.session.request(REPORT_CONFIG_APPLIED, { ...variables });
      return true;
    } catch (error) {
      if (!(error instanceof SocketUnavailableError)) return refused(route.logger, variables, error);
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await route.api.ack(who.token, variables);
      return true;
    } catch (error) {
      if (!(error instanceof GraphQLRequestError && error.transient) || attempt + 1 >= HTTP_ACK_ATTEMPTS || route.signal.aborted) {
        return refused(route.logger, variables, error);
      }
      await sleep(backoffDelay(attempt, route.backoff), route.signal);
    }
  }
}

function refused(logger: ClientLogger, ack: AckVariables, error: unknown): false {
  logger.warn('could not acknowledge a config', { profileName: ack.profileName, version: ack.version, success: ack.success, ...describeError(error) });
  return false;
}
