import type { Environment } from '../domain/enums.js';

/**
 * Every pub/sub topic, in one place. Payloads are plain JSON (dates as ISO
 * strings). The pub/sub prefixes them with HOTSWAP_REDIS_PREFIX.
 */
export const Topics = {
  /** Config pushes to the instances of one service and environment (PushMessage). */
  push: (service: string, environment: Environment) => `push:${environment}:${service}`,
  /** A deployment's events (DeploymentEventMessage). */
  deploymentEvents: (deploymentId: string) => `deployment:${deploymentId}:events`,
  /** Something happened that a deployment runner should look at now (WakeMessage). */
  deploymentWake: 'deployments:wake',
} as const;

/** Why a runner is woken. */
export interface WakeMessage {
  deploymentId: string;
  reason: 'created' | 'ack' | 'control';
}
