import path from 'node:path';
import { DEFAULT_REPUSH_PER_SECOND } from './domain/repush-pacing.js';
import { DEFAULT_MAX_DEPTH } from './domain/version.js';

/** Everything HotSwap reads from the environment, validated and typed. */
export interface AppConfig {
  /** HTTP and websocket port. @default 4000 */
  port: number;
  /** Interface to listen on. @default '0.0.0.0' */
  host: string;
  /**
   * Connections the kernel may queue before HotSwap accepts them (capped by
   * net.core.somaxconn). A push makes thousands of instances open connections
   * at once to ack; past the queue their SYNs are dropped and retried seconds
   * later. @default 4096
   */
  listenBacklog: number;
  /** PostgreSQL URL; unset means the embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  /** Redis URL for registry, pub/sub and rate limits; unset means in-process. */
  redisUrl: string | undefined;
  /** HS256 secret; in embedded mode generated once into `dataDir/jwt-secret`. */
  jwtSecret: string | undefined;
  /** JWKS endpoint to verify tokens against instead of a shared secret. */
  jwksUrl: string | undefined;
  /** Requests per second per caller, bursts of 10× allowed; 0 turns limiting off. @default 50 */
  rateLimitPerSecond: number;
  /** Embedded mode's data (database, generated secret). @default './.hotswap' */
  dataDir: string;
  /** Port of the embedded PostgreSQL. @default 54329 */
  embeddedPgPort: number;
  /** Largest config a version may hold, as canonical JSON bytes. @default 1 MiB */
  maxConfigBytes: number;
  /** Largest JSON Schema, as canonical JSON bytes. @default 512 KiB */
  maxSchemaBytes: number;
  /** Deepest nesting a config may have. @default 64 */
  maxConfigDepth: number;
  /** Largest HTTP request body. @default maxConfigBytes × 2 + 64 KiB */
  maxBodyBytes: number;
  /** Deepest GraphQL selection set. @default 12 */
  maxQueryDepth: number;
  /** Highest GraphQL query cost (graphql-armor cost model). @default 5000 */
  maxQueryCost: number;
  /** pino log level. @default 'info' */
  logLevel: string;
  /** OTLP/HTTP endpoint for traces; unset means tracing off. */
  otlpEndpoint: string | undefined;
  /** service.name of the spans. @default hotswap */
  otelServiceName: string;
  /** Expected heartbeat interval; an instance is STALE after 3 missed. @default 10 s */
  heartbeatIntervalMs: number;
  /** How long a STALE instance is kept before it is removed. @default 5 min */
  staleGraceMs: number;
  /** How long a deployment waits for a target that disconnected to come back before it counts as LEFT. */
  reconnectGraceMs: number;
  /** Unanswered pushes one replica sends again per second at most (src/domain/repush-pacing.ts). @default 2000 */
  repushPerSecond: number;
  /** Deployment lease; another replica takes a deployment over this long after its runner died. @default 15 s */
  leaseMs: number;
  /** How often running deployments' health is checked besides phase ends. @default 30 s */
  healthCheckIntervalMs: number;
  /** Open subscriptions per caller (token `sub`) on one replica. @default 100 */
  maxSubscriptionsPerCaller: number;
  /** Lifetime of the INSTANCE tokens registerInstance issues. @default 7 days */
  instanceTokenTtlSeconds: number;
  /** Prefix of every Redis key HotSwap writes (several deployments may share one Redis). @default 'hotswap:' */
  redisKeyPrefix: string;
  /** Run the background workers (deployment runner, reaper); off only in tests. @default true */
  workers: boolean;
  /** Prometheus to evaluate health policies' queries against; unset: a queried metric has NO_DATA. */
  prometheusUrl: string | undefined;
  /** Seconds between two samples of a queried series (query_range step). @default 10 */
  prometheusStepSeconds: number;
  /** NODE_ENV is `production`: a websocket closed on an internal error says only "Internal server error", not the error's message. @default false */
  production: boolean;
}

/** Thrown when the environment is invalid; each entry names one variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The one reader of process.env. Collects every problem, then throws one
 * ConfigError naming each bad variable, so a misconfigured process stops at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return dflt;
    }
    return n;
  };
  const bool = (name: string, dflt: boolean): boolean => {
    const raw = str(name);
    if (raw === undefined) return dflt;
    if (['true', '1', 'on', 'yes'].includes(raw.toLowerCase())) return true;
    if (['false', '0', 'off', 'no'].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return dflt;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = str(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name} must be a ${protocols.join(' or ')} URL, got "${parsed.protocol}"`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };

  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const jwtSecret = str('JWT_SECRET');
  const jwksUrl = url('JWKS_URL', ['https:', 'http:']);
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret) < 32) {
    problems.push('JWT_SECRET must be at least 32 bytes long (HS256 needs a 256-bit key)');
  }
  if (jwtSecret !== undefined && jwksUrl !== undefined) {
    problems.push('set JWT_SECRET or JWKS_URL, not both');
  }
  if (databaseUrl !== undefined && jwtSecret === undefined && jwksUrl === undefined) {
    problems.push('JWT_SECRET (or JWKS_URL) is required when DATABASE_URL is set');
  }
  const logLevel = str('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const maxConfigBytes = int('HOTSWAP_MAX_CONFIG_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024);

  const config: AppConfig = {
    port: int('PORT', 4000, 0, 65535),
    host: str('HOST') ?? '0.0.0.0',
    listenBacklog: int('HOTSWAP_LISTEN_BACKLOG', 4096, 1, 1_000_000),
    databaseUrl,
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    jwtSecret,
    jwksUrl,
    rateLimitPerSecond: int('RATE_LIMIT_PER_SECOND', 50, 0, 1_000_000),
    dataDir: path.resolve(str('HOTSWAP_DATA_DIR') ?? '.hotswap'),
    embeddedPgPort: int('HOTSWAP_EMBEDDED_PG_PORT', 54329, 1, 65535),
    maxConfigBytes,
    maxConfigDepth: int('HOTSWAP_MAX_CONFIG_DEPTH', DEFAULT_MAX_DEPTH, 2, 1000),
    maxSchemaBytes: int('HOTSWAP_MAX_SCHEMA_BYTES', 512 * 1024, 1024, 16 * 1024 * 1024),
    maxBodyBytes: int('HOTSWAP_MAX_BODY_BYTES', maxConfigBytes * 2 + 64 * 1024, 1024, 256 * 1024 * 1024),
    maxQueryDepth: int('HOTSWAP_MAX_QUERY_DEPTH', 12, 2, 100),
    maxQueryCost: int('HOTSWAP_MAX_QUERY_COST', 5000, 10, 1_000_000),
    logLevel,
    otlpEndpoint: url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']),
    otelServiceName: str('OTEL_SERVICE_NAME') ?? 'hotswap',
    heartbeatIntervalMs: int('HOTSWAP_HEARTBEAT_INTERVAL_MS', 10_000, 100, 3_600_000),
    staleGraceMs: int('HOTSWAP_STALE_GRACE_MS', 300_000, 0, 86_400_000),
    reconnectGraceMs: int('HOTSWAP_RECONNECT_GRACE_MS', 15_000, 0, 3_600_000),
    repushPerSecond: int('HOTSWAP_REPUSH_PER_SECOND', DEFAULT_REPUSH_PER_SECOND, 1, 1_000_000),
    leaseMs: int('HOTSWAP_LEASE_MS', 15_000, 500, 600_000),
    healthCheckIntervalMs: int('HOTSWAP_HEALTH_CHECK_INTERVAL_MS', 30_000, 100, 3_600_000),
    maxSubscriptionsPerCaller: int('HOTSWAP_MAX_SUBSCRIPTIONS_PER_CALLER', 100, 1, 1_000_000),
    instanceTokenTtlSeconds: int('HOTSWAP_INSTANCE_TOKEN_TTL_SECONDS', 7 * 86_400, 5, 366 * 86_400),
    workers: bool('HOTSWAP_WORKERS', true),
    redisKeyPrefix: str('HOTSWAP_REDIS_PREFIX') ?? 'hotswap:',
    prometheusUrl: url('PROMETHEUS_URL', ['http:', 'https:']),
    prometheusStepSeconds: int('HOTSWAP_PROMETHEUS_STEP_SECONDS', 10, 1, 3600),
    production: str('NODE_ENV') === 'production',
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
