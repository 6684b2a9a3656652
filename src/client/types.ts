import type { BackoffOptions } from './backoff.js';

export type ClientEnvironment = 'DEVELOPMENT' | 'STAGING' | 'PRODUCTION';

/** One config sent to the instance: the `ConfigUpdate` of the API. */
export interface ConfigUpdate {
  profileName: string;
  version: number;
  /** sha256 hex of the config's canonical JSON. */
  hash: string;
  data: Record<string, unknown>;
  /** The deployment that pushed it; null for the config sent on subscribe and for a config read from the cache. */
  deploymentId: string | null;
  /** W3C trace context of the push, to join the deployment's trace. */
  traceparent: string | null;
}

/** Health numbers sent with each heartbeat; the deployment health checks compare them. */
export interface InstanceMetricsReport {
  /** Share of failed requests, 0..1. */
  errorRate?: number;
  latencyP99Ms?: number;
  requestCount?: number;
  /** Any other numbers, by name (compared against a deployment's `customThresholds`). */
  custom?: Record<string, number>;
}

/** Where the client logs; `details` is a plain object. pino users: `(msg, d) => log.info(d, msg)`. */
export interface ClientLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** How this process registers itself, when it has no instance token of its own. */
export interface RegistrationOptions {
  /** A registration token: role INSTANCE with `service` and `environment` and no `instanceId`. */
  token: string;
  /** @default os.hostname() */
  host?: string;
  /** The instance's color, for blue-green deployments. @default none */
  color?: 'BLUE' | 'GREEN';
  /** Any JSON object shown with the instance (version, region, pod…). @default none */
  metadata?: Record<string, unknown>;
}

/** Signals the client can stop on (a union of its own: its types need no @types/node). */
export type StopSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGQUIT' | 'SIGUSR1' | 'SIGUSR2';

export interface ConfigClientOptions {
  /** HotSwap's GraphQL endpoint, `http(s)://host:port/graphql`; the websocket URL is derived from it. */
  url: string;
  /**
   * The INSTANCE token of an already registered instance (it carries `instanceId`).
   * With `registration` too, this token is tried first and `registration` used when it is refused.
   * @default none: `registration` is required
   */
  token?: string;
  /** Register a new instance on start (and again when the registration is lost). @default none: `token` is required */
  registration?: RegistrationOptions;
  /** The service this instance belongs to; must match the tokens. */
  service: string;
  environment: ClientEnvironment;
  /**
   * Applies a config. Called one update at a time, in arrival order; throwing
   * (or rejecting) reports the update as failed with the error's message.
   */
  onConfig: (update: ConfigUpdate) => void | Promise<void>;
  /** Called on every heartbeat for the numbers to send. @default none: heartbeats carry no metrics */
  metrics?: () => InstanceMetricsReport | Promise<InstanceMetricsReport>;
  /**
   * Called with each identity the client takes up: on registering, on
   * re-registering, and when it renews the instance token. A process that
   * keeps the token (e.g. in a state directory) passes it back as `token` on
   * its next start, to be the same instance again.
   * @default none
   */
  onIdentity?: (identity: { instanceId: string; token: string }) => void;
  /** Called when the client gives up on something it cannot fix (e.g. its instance is gone and it has no registration token). @default logs with `logger.error` */
  onError?: (error: ConfigClientError) => void;
  /** Interval between heartbeats, in ms. Keep it at the server's `HOTSWAP_HEARTBEAT_INTERVAL_MS`. @default 10000 */
  heartbeatIntervalMs?: number;
  /** File where the last applied config of each profile is kept, and read on start. @default none: no cache */
  cacheFile?: string;
  /** Backoff between reconnects and retries. @default { initialDelayMs: 500, maxDelayMs: 30000 } */
  reconnect?: BackoffOptions;
  /** Timeout of each HTTP request and of each ack sent over the websocket, in ms. @default 10000 */
  requestTimeoutMs?: number;
  /** Call `deregisterInstance` in `stop()`. @default false */
  deregisterOnStop?: boolean;
  /**
   * Signals on which the client stops and deregisters the instance (so it is no
   * target of the next deployment), then lets the signal end the process as it
   * would have (raised again unless the application listens to it too).
   * `false` or `[]` installs no handler.
   * @default ['SIGTERM', 'SIGINT']
   */
  deregisterOnSignals?: readonly StopSignal[] | false;
  /**
   * Where the client logs; `false` silences it. Trouble reaching HotSwap is
   * a warning once per outage (further failures of the same outage go to
   * `info`) and a warning when HotSwap is reachable again.
   * @default warnings and errors to stderr, one line each (`hotswap-client warn: …`); info dropped
   */
  logger?: ClientLogger | false;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** A WebSocket constructor for graphql-ws. @default the `ws` package */
  webSocketImpl?: unknown;
}

export interface ConfigClient {
  /**
   * Applies the cached configs, registers (with `registration`), then connects and
   * subscribes. Resolves once that is under way: it does not wait for HotSwap when
   * HotSwap is unreachable (the client keeps retrying). Rejects when a token or the
   * registration is refused outright.
   */
  start(): Promise<void>;
  /**
   * Resolves when the subscription is first live: HotSwap accepted the websocket
   * connection (`connection_ack`, after which the subscription is sent on it) and
   * accepted a heartbeat of this instance (so it exists and the token is valid).
   * The configs sent on subscribe may arrive just after. Rejects if the client
   * stops, or gives up, before that.
   */
  readonly ready: Promise<void>;
  /** The registered instance id; undefined until registered. Changes when the client registers again. */
  readonly instanceId: string | undefined;
  /** The update last applied for the profile (from HotSwap or the cache). */
  current(profileName: string): ConfigUpdate | undefined;
  /**
   * Closes the socket and timers (idempotent); deregisters when `deregister`
   * (default: `deregisterOnStop`) is set.
   */
  stop(options?: { deregister?: boolean }): Promise<void>;
}

/** Why the client gave up on something; `code` is the server's `extensions.code` or one of the client's own. */
export class ConfigClientError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigClientError';
  }
}
