/**
 * The HotSwap instance client: registers a service instance, heartbeats with its
 * health metrics, receives its config over a graphql-ws subscription, applies
 * it and acknowledges it. See docs/client.md.
 */
export { createConfigClient } from './config-client.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { GraphQLRequestError } from './graphql-http.js';
export {
  type ClientEnvironment,
  type ClientLogger,
  type ConfigClient,
  ConfigClientError,
  type ConfigClientOptions,
  type ConfigUpdate,
  type InstanceMetricsReport,
  type RegistrationOptions,
  type StopSignal,
} from './types.js';
