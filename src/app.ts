import { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { instanceTokenSigner, resolveKeySource } from './auth/key-source.js';
import { createTokenVerifier, type TokenKeySource } from './auth/tokens.js';
import { cacheVerifiedTokens } from './auth/verified-token-cache.js';
import type { AppConfig } from './config.js';
import { ConfigPushHub } from './delivery/push-hub.js';
import { DeploymentEventPublisher } from './orchestrator/events.js';
import { DeploymentTracing } from './orchestrator/deployment-tracing.js';
import { Metrics } from './telemetry/metrics.js';
import { HealthMonitor } from './orchestrator/health-monitor.js';
import { PrometheusSource } from './metrics-source/prometheus-source.js';
import { DeploymentLauncher } from './orchestrator/launcher.js';
import { Orchestrator } from './orchestrator/orchestrator.js';
import { createRateLimiter } from './server/rate-limiter.js';
import { SubscriptionLimiter } from './server/subscription-limiter.js';
import { assertPortFree } from './port-check.js';
import { createPubSub, type PubSub } from './pubsub/pubsub.js';
import type { InstanceRegistry } from './registry/instance-registry.js';
import { MemoryInstanceRegistry } from './registry/memory-registry.js';
import { RedisInstanceRegistry } from './registry/redis-registry.js';
import { guardUnavailable } from './registry/unavailable-guard.js';
import { DeploymentResolver } from './resolvers/deployment.resolver.js';
import { DeploymentPlanResolver } from './resolvers/deployment-plan.resolver.js';
import { ViewerResolver } from './resolvers/viewer.resolver.js';
import { DeploymentPreviewService } from './services/deployment-preview.service.js';
import { mintLocalAdminToken, SignInLinks } from './auth/sign-in-links.js';
import { DeploymentTargetResolver } from './resolvers/deployment-target.resolver.js';
import { InstanceResolver } from './resolvers/instance.resolver.js';
import { ProfileResolver } from './resolvers/profile.resolver.js';
import { SchemaResolver } from './resolvers/schema.resolver.js';
import { SubscriptionResolver } from './resolvers/subscription.resolver.js';
import { VersionResolver } from './resolvers/version.resolver.js';
import { buildGraphQLSchema } from './schema/build-schema.js';
import { CallerGate } from './server/caller-gate.js';
import { startHttpServer } from './server/http-server.js';
import { AckService } from './services/ack.service.js';
import { AssignedSnapshots } from './delivery/assigned-snapshots.js';
import { ConfigFeedService } from './delivery/config-feed.service.js';
import { DeploymentService } from './services/deployment.service.js';
import { InstanceIdentityService } from './services/instance-identity.service.js';
import { InstanceService } from './services/instance.service.js';
import { ProfileService } from './services/profile.service.js';
import { SchemaService } from './services/schema.service.js';
import { VersionService } from './services/version.service.js';
import { Database } from './store/database.js';
import { startEmbeddedPostgres } from './store/embedded-postgres.js';
import { migrate, openOrm } from './store/orm.js';
import { SandboxedValidator } from './json-schema/sandboxed-validator.js';
import { SchemaCompiler } from './json-schema/schema-compiler.js';
import { DeploymentRunner, type DeploymentRunnerOptions } from './workers/deployment-runner.js';
import { EndedInstanceSweeper } from './workers/ended-instance-sweeper.js';
import { HealthChecker } from './workers/health-checker.js';
import { InstanceReaper } from './workers/instance-reaper.js';
import { InstanceRecovery } from './workers/instance-recovery.js';
import { type ScheduledJob, Scheduler } from './workers/scheduler.js';
import { PRESENCE_KEEP_MS } from './registry/redis-presence.js';
import { DEFAULT_EVIDENCE_INTERVALS } from './domain/health-evidence.js';

export interface RunningApp {
  url: string;
  port: number;
  /** Set in embedded mode: the generated secret, so main can print a token. */
  generatedSecret: string | undefined;
  /** Set in embedded mode: one-time sign-in links to the console, for main to print. */
  signInLinks: SignInLinks | undefined;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * The composition root: builds database → registry and pub/sub → services →
 * orchestrator and workers → resolvers → server from validated configuration,
 * and returns one stop() that releases everything in reverse order.
 */
export async function startApp(config: AppConfig, logger: Logger): Promise<RunningApp> {
  const stack: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stack.reverse()) {
      await stop().catch((error: unknown) => logger.error({ err: error }, 'error during shutdown'));
    }
  };
  try {
    // Before the database: a taken port is said in one line, not after seconds of start-up.
    await assertPortFree(config.host, config.port);
    let databaseUrl = config.databaseUrl;
    let embedded = false;
    if (databaseUrl === undefined) {
      const pg = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, logger);
      stack.push(() => pg.stop());
      databaseUrl = pg.url;
      embedded = true;
    }
    const keySource = await resolveKeySource(config);

    const orm = await openOrm(databaseUrl);
    stack.push(() => orm.close());
    await migrate(orm, logger);
    const db = new Database(orm);

    let redis: Redis | undefined;
    if (config.redisUrl !== undefined) {
      // Auto-pipelining: the registry calls of many requests in one tick (a reconnect storm) go out in one write.
      const client = new Redis(config.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true, enableAutoPipelining: true });
      client.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
      await client.connect();
      stack.push(() => client.quit());
      redis = client;
    }
    const pubsub = createPubSub(config.redisUrl, logger, config.redisKeyPrefix);
    stack.push(() => pubsub.close());
    const registry: InstanceRegistry = redis
      ? guardUnavailable(new RedisInstanceRegistry(redis, config.redisKeyPrefix))
      : new MemoryInstanceRegistry();

    const graph = buildGraph({ config, logger, db, registry, pubsub, keySource });
    stack.push(() => graph.sandbox.close());
    const { metrics, schemas, profiles, versions, instances, acks, deployments, feeds, runner, scheduler, sweeper, tracing } = graph;

    const generatedSecret = embedded && 'secret' in keySource ? keySource.secret : undefined;
    const signInLinks = generatedSecret === undefined ? undefined : new SignInLinks(() => mintLocalAdminToken(generatedSecret));
    const schema = buildGraphQLSchema({
      profile: new ProfileResolver(profiles, versions, schemas),
      version: new VersionResolver(versions),
      instance: new InstanceResolver(instances, acks),
      deployment: new DeploymentResolver(deployments),
      deploymentTarget: new DeploymentTargetResolver(instances),
      subscription: new SubscriptionResolver(),
      schema: new SchemaResolver(schemas),
      deploymentPlan: new DeploymentPlanResolver(new DeploymentPreviewService(db, registry)),
      viewer: new ViewerResolver(signInLinks),
    });
    const gate = new CallerGate(
      cacheVerifiedTokens(createTokenVerifier(keySource)),
      createRateLimiter(config.rateLimitPerSecond, redis, config.redisKeyPrefix),
    );
    // Every replica, workers or not: its subscriptions count as deployment targets only while it keeps its presence.
    const replicaJobs = new Scheduler(logger);
    replicaJobs.register({ name: 'presence', intervalMs: PRESENCE_KEEP_MS, run: () => registry.keepPresence() });
    await registry.keepPresence();
    replicaJobs.start();
    stack.push(() => replicaJobs.stop());
    const http = await startHttpServer(
      {
        schema,
        gate,
        feeds,
        logger,
        limits: { maxDepth: config.maxQueryDepth, maxCost: config.maxQueryCost, maxBodyBytes: config.maxBodyBytes },
        metrics,
        production: config.production,
        checkReady: async () => {
          await db.ping();
          if (redis) await redis.ping();
        },
      },
      { host: config.host, port: config.port, backlog: config.listenBacklog },
    );
    // Stop order (reversed): the server first, so nothing new arrives, then the workers.
    if (config.workers) {
      await runner.start();
      scheduler.start();
      scheduler.trigger(sweeper.name); // once at start too: an embedded server may never live an hour
      stack.push(async () => {
        await scheduler.stop();
        await runner.stop();
        // Phase and rollback spans still open here end now; the replica that takes over continues under their stored context.
        tracing.handOver();
      });
    }
    stack.push(() => http.stop());

    return {
      url: http.url,
      port: http.port,
      generatedSecret,
      signInLinks,
      embedded,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** What the graph is built on: what startApp opens first (database, registry, pub/sub), and the settings. */
export interface GraphBase {
  config: AppConfig;
  logger: Logger;
  db: Database;
  registry: InstanceRegistry;
  pubsub: PubSub;
  keySource: TokenKeySource;
  /** Replaces some of the deployment runner's options (tests run several runners side by side, or one that takes nothing new). */
  runner?: Partial<DeploymentRunnerOptions>;
}

/** Everything between the stores and the server: services, orchestrator and workers, the workers registered but not started. */
export interface AppGraph {
  metrics: Metrics;
  hub: ConfigPushHub;
  events: DeploymentEventPublisher;
  /** Owns a worker thread once used: close() it. */
  sandbox: SandboxedValidator;
  schemas: SchemaService;
  profiles: ProfileService;
  versions: VersionService;
  identities: InstanceIdentityService;
  instances: InstanceService;
  acks: AckService;
  health: HealthMonitor;
  tracing: DeploymentTracing;
  orchestrator: Orchestrator;
  runner: DeploymentRunner;
  launcher: DeploymentLauncher;
  deployments: DeploymentService;
  feeds: ConfigFeedService;
  healthChecker: HealthChecker;
  scheduler: Scheduler;
  sweeper: ScheduledJob;
}

/**
 * Builds the services, the orchestrator and the workers on `base`; starts
 * nothing. startApp's graph, and the one the tests build (test/support/graph.ts).
 */
export function buildGraph({ config, logger, db, registry, pubsub, keySource, runner: runnerOptions }: GraphBase): AppGraph {
  const metrics = new Metrics({
    activeDeployments: () => db.read((r) => r.deployments.countActiveByStatus()),
    instancesByService: () => registry.countByService(),
    subscribers: () => hub.subscriberCount,
    heldDeployments: () => runner.heldIds(),
  });
  const hub = new ConfigPushHub(pubsub, (publishedAt) => metrics.pushDelivered(publishedAt));
  const eventPublisher = new DeploymentEventPublisher(pubsub);
  const sandbox = new SandboxedValidator({ maxSchemaBytes: config.maxSchemaBytes, timeoutMs: 2000, memoryMb: 256 });
  const schemas = new SchemaService(db, new SchemaCompiler({ maxSchemaBytes: config.maxSchemaBytes }), sandbox);
  const profiles = new ProfileService(db, schemas);
  const versions = new VersionService(db, { maxBytes: config.maxConfigBytes, maxDepth: config.maxConfigDepth }, schemas);
  const identities = new InstanceIdentityService(registry, db, config.instanceTokenTtlSeconds);
  const instances = new InstanceService(registry, identities, db, instanceTokenSigner(keySource, config.instanceTokenTtlSeconds));
  const acks = new AckService(db, identities, registry, pubsub, logger, (reloadMs) => metrics.configReloaded(reloadMs));
  const metricSource = config.prometheusUrl === undefined ? null : new PrometheusSource({ url: config.prometheusUrl });
  const health = new HealthMonitor(registry, metricSource, {
    queryStepSeconds: config.prometheusStepSeconds,
    judged: (d, report) => metrics.healthJudged(d, report.verdict),
  });
  const scheduler = new Scheduler(logger);
  const tracing = new DeploymentTracing();
  const orchestrator = new Orchestrator(db, hub, eventPublisher, registry, health, logger, {
    tracing,
    ended: (d, status, at) => metrics.deploymentEnded({ id: d.id, strategy: d.options.strategy, environment: d.environment, createdAt: d.createdAt }, status, at),
  }, {
    reconnectGraceMs: config.reconnectGraceMs,
    evidenceTimeoutMs: DEFAULT_EVIDENCE_INTERVALS * config.heartbeatIntervalMs,
    repushPerSecond: config.repushPerSecond,
  });
  const runner = new DeploymentRunner(db, orchestrator, pubsub, logger, {
    owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    leaseMs: config.leaseMs,
    claimIntervalMs: 1000,
    maxConcurrent: 50,
    ...runnerOptions,
  });
  const launcher = new DeploymentLauncher(db, orchestrator, health, eventPublisher, runner);
  const deployments = new DeploymentService(db, registry, launcher, orchestrator, (strategy, environment) =>
    metrics.deploymentStarted(strategy, environment),
  );
  const feeds = new ConfigFeedService(
    new AssignedSnapshots(db),
    hub,
    instances,
    deployments,
    eventPublisher,
    new SubscriptionLimiter(config.maxSubscriptionsPerCaller),
  );

  scheduler.register(runner.job());
  const healthChecker = new HealthChecker(orchestrator, runner, logger, { intervalMs: config.healthCheckIntervalMs });
  scheduler.register(healthChecker.job());
  scheduler.register(
    new InstanceReaper(registry, identities, { heartbeatIntervalMs: config.heartbeatIntervalMs, graceMs: config.staleGraceMs }).job(),
  );
  scheduler.register(new InstanceRecovery(registry, { intervalMs: config.heartbeatIntervalMs, logger }).job());
  const sweeper = new EndedInstanceSweeper(identities).job();
  scheduler.register(sweeper);

  return {
    metrics, hub, events: eventPublisher, sandbox, schemas, profiles, versions, identities, instances, acks,
    health, tracing, orchestrator, runner, launcher, deployments, feeds, healthChecker, scheduler, sweeper,
  };
}
