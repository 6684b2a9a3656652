import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { loadOrCreateSecret } from './auth/secret-file.js';
import { createTokenVerifier, type TokenKeySource } from './auth/tokens.js';
import { cacheVerifiedTokens } from './auth/verified-token-cache.js';
import type { AppConfig } from './config.js';
import { createRateLimiter } from './protection/rate-limiter.js';
import { ProfileResolver } from './resolvers/profile.resolver.js';
import { VersionResolver } from './resolvers/version.resolver.js';
import { buildGraphQLSchema } from './schema/build-schema.js';
import { CallerGate } from './server/graphql-context.js';
import { type RunningHttpServer, startHttpServer } from './server/http-server.js';
import { ProfileService } from './services/profile.service.js';
import { VersionService } from './services/version.service.js';
import { Database } from './store/database.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './store/embedded-postgres.js';
import { migrate, openOrm } from './store/orm.js';

export interface RunningApp {
  url: string;
  port: number;
  /** Set in embedded mode: the generated secret, so main can print a token. */
  generatedSecret: string | undefined;
  embedded: boolean;
  stop(): Promise<void>;
}

/**
 * The composition root: builds database → repositories → services → resolvers
 * → server from validated configuration, and returns one stop() that releases
 * everything in reverse order.
 */
export async function startApp(config: AppConfig, logger: Logger): Promise<RunningApp> {
  const stack: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stack.reverse()) {
      await stop().catch((error: unknown) => logger.error({ err: error }, 'error during shutdown'));
    }
  };
  try {
    let databaseUrl = config.databaseUrl;
    let embedded: EmbeddedPostgres | undefined;
    if (databaseUrl === undefined) {
      embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, logger);
      stack.push(embedded.stop);
      databaseUrl = embedded.url;
    }
    const keySource = await resolveKeySource(config);

    const orm = await openOrm(databaseUrl);
    stack.push(() => orm.close());
    await migrate(orm, logger);
    const db = new Database(orm);

    let redis: Redis | undefined;
    if (config.redisUrl !== undefined) {
      redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: true });
      redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
      await redis.connect();
      const r = redis;
      stack.push(() => r.quit());
    }

    const profiles = new ProfileService(db);
    const versions = new VersionService(db, { maxBytes: config.maxConfigBytes, maxDepth: config.maxConfigDepth });
    const schema = buildGraphQLSchema({
      profile: new ProfileResolver(profiles, versions),
      version: new VersionResolver(versions),
    });
    const gate = new CallerGate(
      cacheVerifiedTokens(createTokenVerifier(keySource)),
      createRateLimiter(config.rateLimitPerSecond, redis),
    );

    const http: RunningHttpServer = await startHttpServer(
      {
        schema,
        gate,
        logger,
        limits: {
          maxDepth: config.maxQueryDepth,
          maxCost: config.maxQueryCost,
          maxBodyBytes: config.maxBodyBytes,
        },
        checkReady: async () => {
          await db.ping();
          if (redis) await redis.ping();
        },
      },
      config.host,
      config.port,
    );
    stack.push(() => http.stop());

    return {
      url: http.url,
      port: http.port,
      generatedSecret: embedded && 'secret' in keySource ? keySource.secret : undefined,
      embedded: embedded !== undefined,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function resolveKeySource(config: AppConfig): Promise<TokenKeySource> {
  if (config.jwksUrl !== undefined) return { jwksUrl: config.jwksUrl };
  if (config.jwtSecret !== undefined) return { secret: config.jwtSecret };
  // Only the embedded default gets here: loadConfig requires a key with DATABASE_URL.
  return { secret: await loadOrCreateSecret(config.dataDir) };
}
