import type { Environment } from '../domain/enums.js';
import type { JsonObject } from '../domain/json.js';

/** One config sent to an instance: the ConfigUpdate of API.md. */
export interface ConfigPush {
  profileName: string;
  version: number;
  hash: string;
  data: JsonObject;
  /** Null when it is the current config sent on subscribe. */
  deploymentId: string | null;
  traceparent: string | null;
}

/** A push to some (or all) instances of a service and environment, as published between replicas. */
export interface PushMessage {
  service: string;
  environment: Environment;
  /** The instance ids to deliver to; null means every subscribed instance of the service and environment. */
  targets: string[] | null;
  update: ConfigPush;
  /** Epoch ms when it was published (push latency). */
  publishedAt?: number;
}
