import type { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage } from '../../src/delivery/push-message.js';
import type { Principal } from '../../src/domain/authorization.js';
import { DeploymentStrategy, Environment, Role } from '../../src/domain/enums.js';
import { DeploymentEventPublisher } from '../../src/orchestrator/events.js';
import { HealthMonitor } from '../../src/orchestrator/health-monitor.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { createPubSub, type PubSub } from '../../src/pubsub/pubsub.js';
import { MemoryInstanceRegistry } from '../../src/registry/memory-registry.js';
import { DeploymentService } from '../../src/services/deployment.service.js';
import { type Adopter, DeploymentLauncher } from '../../src/orchestrator/launcher.js';
import { Database } from '../../src/store/database.js';
import { openOrm } from '../../src/store/orm.js';
import { DeploymentRunner } from '../../src/workers/deployment-runner.js';
import { UnavailableError } from '../../src/domain/errors.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordingHub } from '../support/recording-hub.js';

const ADMIN: Principal = { sub: 'test-admin', role: Role.ADMIN };

/** How a new deployment starts: in its creating transaction on this replica's runner, or left to any replica's claim. */
describe('DeploymentRunner as the starter of new deployments', () => {
  let tdb: TestDatabase;
  let orm: MikroORM;
  let db: Database;
  let pubsub: PubSub;
  let registry: MemoryInstanceRegistry;
  let health: HealthMonitor;
  let events: DeploymentEventPublisher;
  let orchestrator: Orchestrator;
  const published: PushMessage[] = [];
  const runners: DeploymentRunner[] = [];
  let counter = 0;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    tdb = await createTestDatabase();
    orm = await openOrm(tdb.url, { poolMax: 4 });
    db = new Database(orm);
    pubsub = createPubSub(undefined, logger);
    const spy = recordingHub(pubsub, published);
    registry = new MemoryInstanceRegistry();
    health = new HealthMonitor(registry);
    events = new DeploymentEventPublisher(pubsub);
    orchestrator = new Orchestrator(db, spy, events, registry, health, logger);
  });
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
    published.length = 0;
  });
  afterAll(async () => {
    await orm?.close();
    await tdb?.drop();
  });

  const serviceWith = (adopter?: Adopter, reg: MemoryInstanceRegistry = registry, orch: Orchestrator = orchestrator) =>
    new DeploymentService(db, reg, new DeploymentLauncher(db, orch, health, events, adopter), orch);

  const runner = (maxConcurrent = 10) => {
    const r = new DeploymentRunner(db, orchestrator, pubsub, logger, { owner: `runner-${++counter}`, leaseMs: 15_000, claimIntervalMs: 1000, maxConcurrent });
    runners.push(r);
    return r;
  };

  /** A profile with version 1 and two registered instances; returns the profile name. */
  async function fixture(): Promise<string> {
    const n = ++counter;
    const profileName = `starter-${n}`;
    const service = `starter-svc-${n}`;
    const profileId = randomUUID();
    await tdb.query(
      `insert into config_profile (id, name, service, environment, last_version, active_version, created_at, updated_at)
       values ($1, $2, $3, 'STAGING', 1, null, now(), now())`,
      [profileId, profileName, service],
    );
    await tdb.query(
      `insert into config_version (id, profile_id, version, data, hash, created_by, created_at) values ($1, $2, 1, '{"v":1}', 'h1', 't', now())`,
      [randomUUID(), profileId],
    );
    for (const id of [`${service}-a`, `${service}-b`]) {
      await registry.register({ id, service, environment: Environment.STAGING, host: id, color: null, metadata: null, registeredAt: new Date() });
      await registry.connected(id);
    }
    return profileName;
  }

  const start = (service: DeploymentService, profileName: string) =>
    service.start(ADMIN, { profileName, version: 1, strategy: DeploymentStrategy.DIRECT, ackTimeoutSeconds: 30 });
  const row = async (id: string) =>
    (await tdb.query<{ status: string; phase: number; lease_owner: string | null }>('select status, phase, lease_owner from deployment where id = $1', [id]))[0];
  const targetStates = async (id: string) =>
    (await tdb.query<{ state: string }>('select state from deployment_target where deployment_id = $1 order by instance_id', [id])).map((r) => r.state);

  it('a started runner takes the lease at creation, and the first pushes are committed and published by the mutation', async () => {
    const r = runner();
    await r.start();
    const service = serviceWith(r);
    const d = await start(service, await fixture());
    expect(d).toMatchObject({ status: 'IN_PROGRESS', phase: 1 });
    expect(await row(d.id)).toMatchObject({ status: 'IN_PROGRESS', lease_owner: r.owner });
    expect(await targetStates(d.id)).toEqual(['PUSHED', 'PUSHED']);
    expect(published.map((p) => [p.update.deploymentId, p.targets?.length])).toEqual([[d.id, 2]]);
    expect(r.heldIds()).toEqual([d.id]);
  });

  it('writes the targets with the first pushes: as many PUSHED as may await an ack (version, deadline, assignment), the rest PENDING', async () => {
    const r = runner();
    await r.start();
    const service = serviceWith(r);
    const profileName = await fixture();
    const d = await service.start(ADMIN, { profileName, version: 1, strategy: DeploymentStrategy.DIRECT, direct: { maxConcurrency: 1 }, ackTimeoutSeconds: 30 });
    const targets = await tdb.query<{ instance_id: string; state: string; version: number | null; seconds: number | null }>(
      `select instance_id, state, version, extract(epoch from deadline_at - pushed_at)::int as seconds
       from deployment_target where deployment_id = $1 order by instance_id`,
      [d.id],
    );
    const [first, second] = targets.map((t) => t.instance_id);
    expect(targets).toEqual([
      { instance_id: first, state: 'PUSHED', version: 1, seconds: 30 },
      { instance_id: second, state: 'PENDING', version: null, seconds: null },
    ]);
    expect(first!.endsWith('-a')).toBe(true);
    // Recorded as sent to the pushed instance only, so its ack counts and moves its target.
    const sent = await tdb.query('select instance_id, sent_version, sent_deployment_id from instance_config ic join deployment d on d.profile_id = ic.profile_id where d.id = $1', [d.id]);
    expect(sent).toEqual([{ instance_id: first, sent_version: 1, sent_deployment_id: d.id }]);
    expect(published.map((p) => p.targets)).toEqual([[first]]);
    const ack = (instanceId: string) => db.transaction((tx) =>
      tx.instanceConfigs.recordAcks([{ instanceId, profileName, version: 1, success: true, reloadMs: 1, error: null }]));
    expect((await ack(second!)).accepted).toEqual([false]);
    expect(await ack(first!)).toEqual({ accepted: [true], deploymentIds: [d.id] });
  });

  for (const [why, make] of [
    ['not started yet (no wake-ups for its acks)', () => runner()],
    ['stopped', async () => {
      const r = runner();
      await r.start();
      await r.stop();
      return r;
    }],
    ['running as many deployments as it may', async () => {
      const r = runner(0);
      await r.start();
      return r;
    }],
  ] as const) {
    it(`a runner ${why} leaves the new deployment PENDING, unleased, for any replica's claim`, async () => {
      const r = await make();
      const service = serviceWith(r);
      const d = await start(service, await fixture());
      expect(d.status).toBe('PENDING');
      expect(await row(d.id)).toMatchObject({ status: 'PENDING', phase: 0, lease_owner: null });
      expect(await targetStates(d.id)).toEqual(['PENDING', 'PENDING']);
      expect(published).toEqual([]);
      expect(r.heldIds()).toEqual([]);
    });
  }

  it('a PENDING deployment cancelled before any runner claims it ends CANCELLED: no push, no claim, the reason kept', async () => {
    const r = runner(0);
    await r.start();
    const service = serviceWith(r);
    const d = await start(service, await fixture());
    expect(d.status).toBe('PENDING');
    const cancelled = await service.cancel({ sub: 'otto', role: Role.OPERATOR }, d.id, '  wrong version  ');
    expect(cancelled).toMatchObject({ status: 'CANCELLED', failureReason: 'cancelled by otto: wrong version' });
    expect(cancelled.finishedAt).not.toBeNull();
    expect((await tdb.query<{ type: string; status: string }>('select type, status from deployment_event where deployment_id = $1 order by id', [d.id])).map((e) => [e.type, e.status]))
      .toEqual([['STARTED', 'PENDING'], ['CANCELLED', 'CANCELLED']]);
    // A runner with room claims nothing: CANCELLED is not active, and nothing was ever pushed.
    const free = runner();
    await free.start();
    await free.claim();
    expect(free.heldIds()).not.toContain(d.id);
    expect(await targetStates(d.id)).toEqual(['PENDING', 'PENDING']);
    expect(published.filter((p) => p.update.deploymentId === d.id)).toEqual([]);
    // Cancelling again, or anything else afterwards, is a CONFLICT: CANCELLED is final.
    await expect(service.cancel(ADMIN, d.id, 'again')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/CANCELLED is final/) });
    await expect(service.resume(ADMIN, d.id)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('a first step that fails leaves nothing written: no deployment, no targets, nothing published', async () => {
    const failing: Adopter = {
      leaseForNew: () => ({ owner: 'doomed', ms: 15_000 }),
      adopt: () => {
        throw new Error('adopt must not be called');
      },
    };
    const broken = Object.create(orchestrator) as Orchestrator;
    broken.firstStep = () => Promise.reject(new Error('the first step failed'));
    const service = serviceWith(failing, registry, broken);
    const profileName = await fixture();
    await expect(start(service, profileName)).rejects.toThrow('the first step failed');
    const left = await tdb.query(
      'select count(*)::int as n from deployment d join config_profile p on p.id = d.profile_id where p.name = $1',
      [profileName],
    );
    expect(left).toEqual([{ n: 0 }]);
    expect(published).toEqual([]);
  });

  it('a missing version is NOT_FOUND even while the registry is down; an existing one is UNAVAILABLE then, with nothing written', async () => {
    const down = Object.create(registry) as MemoryInstanceRegistry;
    down.liveInstances = () => Promise.reject(new UnavailableError('the instance registry is unavailable'));
    const service = serviceWith(undefined, down);
    const profileName = await fixture();
    await expect(service.start(ADMIN, { profileName, version: 99, strategy: DeploymentStrategy.DIRECT, ackTimeoutSeconds: 30 }))
      .rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(start(service, profileName)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await tdb.query('select 1 from deployment d join config_profile p on p.id = d.profile_id where p.name = $1', [profileName])).toEqual([]);
  });
});
