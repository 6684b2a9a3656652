import type { MikroORM } from '@mikro-orm/postgresql';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetState } from '../../src/domain/deployment.js';
import { withPolicyDefaults } from '../../src/domain/deployment-model.js';
import { DeploymentStrategy, Environment } from '../../src/domain/enums.js';
import { ackOutcome } from '../../src/domain/lifecycle/ack-outcome.js';
import { DeploymentEventPublisher } from '../../src/orchestrator/events.js';
import { HealthMonitor } from '../../src/orchestrator/health-monitor.js';
import { DeploymentLauncher } from '../../src/orchestrator/launcher.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { createPubSub, type PubSub } from '../../src/pubsub/pubsub.js';
import { MemoryInstanceRegistry } from '../../src/registry/memory-registry.js';
import { Database } from '../../src/store/database.js';
import { openOrm } from '../../src/store/orm.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordingHub } from '../support/recording-hub.js';

/** One ack against one target: the target's state, what was pushed to it, what the instance answers. */
interface Case {
  instanceId: string;
  state: TargetState;
  pushed: 'new' | 'previous';
  acked: 'pushed' | 'other';
  success: boolean;
  error: string | null;
}

const NEW = 2;
const PREVIOUS = 1;

/** Every combination: 7 states x what was pushed x which version is acked x success (with and without a reason). */
const CASES: Case[] = Object.values(TargetState).flatMap((state) =>
  (['new', 'previous'] as const).flatMap((pushed) =>
    (['pushed', 'other'] as const).flatMap((acked) =>
      [
        { success: true, error: null },
        { success: false, error: 'parse error at line 3' },
        { success: false, error: null },
      ].map(({ success, error }, i) => ({ instanceId: `ack-${state}-${pushed}-${acked}-${i}`.toLowerCase(), state, pushed, acked, success, error })),
    ),
  ),
);

/**
 * InstanceConfigRepository.recordAcks applies the ack rule to a batch in SQL;
 * domain/lifecycle/ack-outcome.ts states it as a function. They must agree on
 * every case: each case's target is set up on a real deployment, all acks go
 * through the SQL in one batch, and each resulting target is what the function says.
 */
describe('the ack outcome: SQL and function agree', () => {
  let tdb: TestDatabase;
  let orm: MikroORM;
  let db: Database;
  let pubsub: PubSub;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    orm = await openOrm(tdb.url, { poolMax: 2 });
    db = new Database(orm);
    pubsub = createPubSub(undefined, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await orm?.close();
    await tdb?.drop();
  });

  it(`on all ${CASES.length} cases`, async () => {
    const registry = new MemoryInstanceRegistry();
    const service = 'ack-rule';
    const profile = await db.transaction(async (r) => {
      const p = await r.profiles.insert({ name: 'ack-rule', service, environment: Environment.STAGING });
      for (const version of [PREVIOUS, NEW]) {
        await r.profiles.allocateVersionNumber(p.id);
        await r.versions.insert(p, { version, data: { v: version }, hash: `h${version}`, description: null, createdBy: 'test' });
      }
      await r.profiles.setActiveVersion(p.id, PREVIOUS);
      return p;
    });
    for (const c of CASES) {
      await registry.register({ id: c.instanceId, service, environment: Environment.STAGING, host: c.instanceId, color: null, metadata: null, registeredAt: new Date() });
      await registry.connected(c.instanceId);
    }
    // A real deployment whose first step pushes the new version to every case's instance.
    const events = new DeploymentEventPublisher(pubsub);
    const health = new HealthMonitor(registry);
    const orchestrator = new Orchestrator(db, recordingHub(pubsub, []), events, registry, health, pino({ level: 'silent' }));
    const launcher = new DeploymentLauncher(db, orchestrator, health, events, { leaseForNew: () => ({ owner: 'ack-rule', ms: 60_000 }), adopt: () => undefined });
    const id = await launcher.launch({
      profile: (await db.read((r) => r.profiles.findByName('ack-rule')))!,
      version: NEW,
      strategy: DeploymentStrategy.DIRECT,
      normalized: { options: { strategy: DeploymentStrategy.DIRECT, direct: { maxConcurrency: CASES.length } }, healthPolicy: withPolicyDefaults({ autoRollback: true }), ackTimeoutSeconds: 60 },
      instances: CASES.map((c) => ({ id: c.instanceId, color: null })),
      activeColor: null,
      startedBy: 'test',
    } as Parameters<DeploymentLauncher['launch']>[0]);
    // What a rollback pushes: the previous version.
    const rolledBack = CASES.filter((c) => c.pushed === 'previous').map((c) => c.instanceId);
    await db.transaction((r) => r.targets.markPushed(id, profile.id, rolledBack, PREVIOUS, 60));
    // The state under test, set directly: reaching each through the orchestrator would test the orchestrator instead.
    for (const state of Object.values(TargetState)) {
      const ids = CASES.filter((c) => c.state === state).map((c) => c.instanceId);
      await tdb.query('update deployment_target set state = $1 where deployment_id = $2 and instance_id = any($3)', [state, id, ids]);
    }

    const pushedVersion = (c: Case) => (c.pushed === 'new' ? NEW : PREVIOUS);
    const ackedVersion = (c: Case) => (c.acked === 'pushed' ? pushedVersion(c) : pushedVersion(c) === NEW ? PREVIOUS : NEW);
    await db.transaction((r) =>
      r.instanceConfigs.recordAcks(CASES.map((c) => ({ instanceId: c.instanceId, profileName: 'ack-rule', version: ackedVersion(c), success: c.success, reloadMs: 5, error: c.error }))),
    );
    const rows = await tdb.query<{ instance_id: string; state: TargetState; error: string | null }>(
      'select instance_id, state, error from deployment_target where deployment_id = $1',
      [id],
    );
    const after = new Map(rows.map((r) => [r.instance_id, r]));
    const disagreements = CASES.flatMap((c) => {
      const expected = ackOutcome({ state: c.state, pushedVersion: pushedVersion(c), deploymentVersion: NEW, ackedVersion: ackedVersion(c), success: c.success, error: c.error });
      const row = after.get(c.instanceId)!;
      const want = expected ?? { state: c.state, error: null };
      return row.state === want.state && row.error === want.error ? [] : [{ case: c, sql: { state: row.state, error: row.error }, function: want }];
    });
    expect(disagreements).toEqual([]);
    // The rule is not vacuous: every outcome occurs.
    const states = new Set(rows.map((r) => r.state));
    for (const s of [TargetState.APPLIED, TargetState.ROLLED_BACK, TargetState.FAILED]) expect(states).toContain(s);
  });
});
