import net from 'node:net';
import type * as Testcontainers from 'testcontainers';

/** Where the integration tests find PostgreSQL and Redis. */
export interface TestServices {
  /** A URL to the server's `postgres` database, with rights to create databases. */
  databaseUrl: string;
  redisUrl: string;
  stop(): Promise<void>;
}

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
  });
}

/**
 * DATABASE_URL and REDIS_URL from the environment; else PostgreSQL and Redis on
 * their standard local ports; else containers when a Docker engine answers;
 * else a failure that says what to provide. Integration tests never skip.
 */
export async function resolveTestServices(): Promise<TestServices> {
  const envDb = process.env.DATABASE_URL;
  const envRedis = process.env.REDIS_URL;
  const databaseUrl = envDb ?? ((await reachable(LOCAL_PG)) ? LOCAL_PG : undefined);
  const redisUrl = envRedis ?? ((await reachable(LOCAL_REDIS)) ? LOCAL_REDIS : undefined);
  if (databaseUrl && redisUrl) return { databaseUrl, redisUrl, stop: async () => {} };
  return startContainers(databaseUrl, redisUrl);
}

async function startContainers(databaseUrl: string | undefined, redisUrl: string | undefined): Promise<TestServices> {
  let testcontainers: typeof Testcontainers;
  try {
    testcontainers = await import('testcontainers');
    await testcontainers.getContainerRuntimeClient();
  } catch (error) {
    throw new Error(
      'Integration tests need PostgreSQL and Redis. Set DATABASE_URL (a postgres URL with CREATEDB rights) and ' +
        'REDIS_URL, run them on 127.0.0.1:5432 and :6379, or start a Docker engine for testcontainers. ' +
        `(No container runtime: ${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  }
  const { GenericContainer, Wait } = testcontainers;
  const stops: Array<() => Promise<unknown>> = [];
  if (!databaseUrl) {
    const pg = await new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
    stops.push(() => pg.stop());
    databaseUrl = `postgres://postgres@${pg.getHost()}:${pg.getMappedPort(5432)}/postgres`;
  }
  if (!redisUrl) {
    const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    stops.push(() => redis.stop());
    redisUrl = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
  }
  return {
    databaseUrl,
    redisUrl,
    stop: async () => {
      await Promise.all(stops.map((s) => s()));
    },
  };
}
