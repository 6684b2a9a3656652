import type { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage } from '../../src/delivery/push-message.js';
import { DeploymentStatus, DeploymentStrategy, Environment } from '../../src/domain/enums.js';
import { INITIAL_STRATEGY_STATE, withPolicyDefaults } from '../../src/domain/deployment-model.js';
import { DeploymentEventPublisher } from '../../src/orchestrator/events.js';
import { HealthMonitor } from '../../src/orchestrator/health-monitor.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { createPubSub } from '../../src/pubsub/pubsub.js';
import { MemoryInstanceRegistry } from '../../src/registry/memory-registry.js';
import { Database } from '../../src/store/database.js';
import { openOrm } from '../../src/store/orm.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordingHub } from '../support/recording-hub.js';

/** What a replica taking a deployment over does with pushes the dead runner may never have sent. */
describe('orchestrator takeover', () => {
  let tdb: TestDatabase;
  let orm: MikroORM;
  let db: Database;
  const published: PushMessage[] = [];
  let orchestrator: Orchestrator;
  const owner = 'replica-b';

  beforeAll(async () => {
    tdb = await createTestDatabase();
    orm = await openOrm(tdb.url, { poolMax: 3 });
    db = new Database(orm);
    const logger = pino({ level: 'silent' });
    const pubsub = createPubSub(undefined, logger);
    const spy = recordingHub(pubsub, published);
    const registry = new MemoryInstanceRegistry();
    orchestrator = new Orchestrator(db, spy, new DeploymentEventPublisher(pubsub), registry, new HealthMonitor(registry), logger);
  });
  afterAll(async () => {
    await orm.close();
    await tdb.drop();
  });

  it('re-sends every push still awaiting an ack, with its version, and nothing else', async () => {
    const profileId = randomUUID();
    const deploymentId = randomUUID();
    await tdb.query(
      `insert into config_profile (id, name, service, environment, last_version, active_version, created_at, updated_at)
       values ($1, 'takeover', 'svc', 'STAGING', 1, null, now(), now())`,
      [profileId],
    );
    await tdb.query(
      `insert into config_version (id, profile_id, version, data, hash, created_by, created_at) values ($1, $2, 1, '{"v":1}', 'h1', 't', now())`,
      [randomUUID(), profileId],
    );
    await db.transaction(async (r) => {
      await r.deployments.insert(
        {
          id: deploymentId,
          profileId,
          service: 'svc',
          environment: Environment.STAGING,
          version: 1,
          previousVersion: null,
          options: { strategy: DeploymentStrategy.DIRECT, direct: { maxConcurrency: 10 } },
          healthPolicy: withPolicyDefaults({ maxErrorRateIncrease: null, maxLatencyIncreasePct: null, customThresholds: null, autoRollback: true }),
          ackTimeoutSeconds: 30,
          status: DeploymentStatus.IN_PROGRESS,
          phaseCount: 1,
          state: INITIAL_STRATEGY_STATE,
          startedBy: 't',
          traceContext: null,
        },
        new Date(),
      );
      await r.targets.insert(deploymentId, ['a', 'b', 'c'].map((instanceId) => ({ instanceId, phase: 1 })), null);
      // The dead runner persisted pushes to a and b, then died before publishing; c was never pushed.
      await r.targets.markPushed(deploymentId, profileId, ['a', 'b'], 1, 30);
    });
    await tdb.query(`update deployment set phase = 1, lease_owner = $2, lease_expires_at = now() + interval '1 minute' where id = $1`, [deploymentId, owner]);

    await orchestrator.resume(deploymentId, owner);
    expect(published).toHaveLength(1);
    expect(published[0]!.targets?.sort()).toEqual(['a', 'b']);
    expect(published[0]!.update).toMatchObject({ profileName: 'takeover', version: 1, hash: 'h1', data: { v: 1 }, deploymentId });
  });

  it('refuses to resume a deployment whose lease another replica holds', async () => {
    const [row] = await tdb.query<{ id: string }>('select id from deployment limit 1');
    await expect(orchestrator.resume(row!.id, 'someone-else')).rejects.toThrow(/lost the lease/);
  });
});
