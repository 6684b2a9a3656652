import type { MikroORM } from '@mikro-orm/postgresql';
import { type Logger, pino } from 'pino';
import { type AppGraph, buildGraph } from '../../src/app.js';
import { type AppConfig, loadConfig } from '../../src/config.js';
import type { PushMessage } from '../../src/delivery/push-message.js';
import { createPubSub, type PubSub } from '../../src/pubsub/pubsub.js';
import { MemoryInstanceRegistry } from '../../src/registry/memory-registry.js';
import { Database } from '../../src/store/database.js';
import { openOrm } from '../../src/store/orm.js';
import type { DeploymentRunnerOptions } from '../../src/workers/deployment-runner.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { TEST_SECRET } from './server.js';

/**
 * The one place the tests build services, the orchestrator and the workers:
 * the production graph (src/app.ts buildGraph) on a test database, an
 * in-process registry and pub/sub. Tests that need a part to behave otherwise
 * spy on the built object rather than wiring their own.
 */

export interface GraphOptions {
  /** Configuration variables over the defaults, as the server reads them (e.g. HOTSWAP_HEALTH_CHECK_INTERVAL_MS). */
  env?: Record<string, string>;
  /** @default a silent logger */
  logger?: Logger;
  /** When given, every push is recorded here (a copy) instead of being published. */
  published?: PushMessage[];
  /** Replaces some of the deployment runner's options (its owner, how many it runs at once). */
  runner?: Partial<DeploymentRunnerOptions>;
}

export interface RootOptions extends GraphOptions {
  /** The registry the graph and its replicas share. @default a new one */
  registry?: MemoryInstanceRegistry;
}

export interface TestGraph extends AppGraph {
  config: AppConfig;
  db: Database;
  registry: MemoryInstanceRegistry;
  pubsub: PubSub;
  logger: Logger;
  /** Another replica: its own graph on the same database, registry, pub/sub and push record, with `o` over this one's options. */
  replica(o?: GraphOptions): TestGraph;
  /** Stops the runners and closes the sandboxes of this graph and its replicas. */
  close(): Promise<void>;
}

/** A test graph on a database of its own, cloned from the migrated template. */
export interface StoreGraph extends TestGraph {
  tdb: TestDatabase;
  orm: MikroORM;
  /** close(), then the ORM, then drops the database. */
  stop(): Promise<void>;
}

interface Shared {
  db: Database;
  registry: MemoryInstanceRegistry;
  pubsub: PubSub;
  built: AppGraph[];
}

/** The graph on `db` (a Database the test opened: a proxied or dead one, say). */
export function graphOn(db: Database, o: RootOptions = {}): TestGraph {
  const logger = o.logger ?? pino({ level: 'silent' });
  const registry = o.registry ?? new MemoryInstanceRegistry();
  return build({ db, registry, pubsub: createPubSub(undefined, logger), built: [] }, { ...o, logger });
}

/** An ORM that is never there: a unit test's graph fails loudly should a part it tests reach for the database. */
const NO_ORM = new Proxy({} as MikroORM, {
  get(_target, property) {
    throw new Error(`a unit test's graph has no database (it used orm.${String(property)})`);
  },
});

/** The graph without a database, on `registry`: for unit tests of a part that needs none (the health monitor, say). */
export function graphWithoutDatabase(registry: MemoryInstanceRegistry): TestGraph {
  return graphOn(new Database(NO_ORM), { registry });
}

/** A fresh database, its ORM (a pool of `poolMax` connections, by default the ORM's), and the graph on it. */
export async function startTestGraph(o: RootOptions & { poolMax?: number } = {}): Promise<StoreGraph> {
  const tdb = await createTestDatabase();
  const orm = await openOrm(tdb.url, { poolMax: o.poolMax });
  const graph = graphOn(new Database(orm), o);
  return Object.assign(graph, {
    tdb,
    orm,
    async stop() {
      await graph.close();
      await orm.close();
      await tdb.drop();
    },
  });
}

function build(shared: Shared, o: GraphOptions & { logger: Logger }): TestGraph {
  const config = loadConfig({ JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', ...o.env });
  const { db, registry, pubsub, built } = shared;
  const graph = buildGraph({ config, logger: o.logger, db, registry, pubsub, keySource: { secret: TEST_SECRET }, runner: o.runner });
  built.push(graph);
  const published = o.published;
  if (published) {
    graph.hub.publish = (m: PushMessage) => {
      published.push(structuredClone(m));
      return Promise.resolve();
    };
  }
  return {
    ...graph,
    config,
    db,
    registry,
    pubsub,
    logger: o.logger,
    replica: (more = {}) => build(shared, { ...o, ...more, logger: more.logger ?? o.logger }),
    async close() {
      for (const g of built.splice(0)) {
        await g.runner.stop();
        await g.sandbox.close();
      }
    },
  };
}
