import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/authorization.js';
import { TargetState } from '../../src/domain/deployment.js';
import { DeploymentStrategy, Role } from '../../src/domain/enums.js';
import { ackOutcome } from '../../src/domain/lifecycle/ack-outcome.js';
import { type StoreGraph, startTestGraph } from '../support/graph.js';
import { seedInstances, seedProfile } from '../support/seed.js';

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
  let g: StoreGraph;
  const ADMIN: Principal = { sub: 'test-admin', role: Role.ADMIN };

  beforeAll(async () => {
    g = await startTestGraph({ published: [], poolMax: 2 });
  });
  afterAll(async () => {
    await g?.stop();
  });

  it(`on all ${CASES.length} cases`, async () => {
    const profile = await seedProfile(g.db, { name: 'ack-rule', service: 'ack-rule', versions: 2, activeVersion: PREVIOUS });
    await seedInstances(g.registry, CASES.map((c) => c.instanceId), { service: 'ack-rule' });
    // The graph's runner is not started: the deployment waits PENDING, and this test pushes as its first step would.
    const { id } = await g.deployments.start(ADMIN, { profileName: 'ack-rule', version: NEW, strategy: DeploymentStrategy.DIRECT, ackTimeoutSeconds: 60 });
    const all = CASES.map((c) => c.instanceId);
    await g.db.transaction((r) => r.targets.markPushed(id, profile.id, all, NEW, 60));
    // What a rollback pushes: the previous version.
    const rolledBack = CASES.filter((c) => c.pushed === 'previous').map((c) => c.instanceId);
    await g.db.transaction((r) => r.targets.markPushed(id, profile.id, rolledBack, PREVIOUS, 60));
    // The state under test, set directly: reaching each through the orchestrator would test the orchestrator instead.
    for (const state of Object.values(TargetState)) {
      const ids = CASES.filter((c) => c.state === state).map((c) => c.instanceId);
      await g.tdb.query('update deployment_target set state = $1 where deployment_id = $2 and instance_id = any($3)', [state, id, ids]);
    }

    const pushedVersion = (c: Case) => (c.pushed === 'new' ? NEW : PREVIOUS);
    const ackedVersion = (c: Case) => (c.acked === 'pushed' ? pushedVersion(c) : pushedVersion(c) === NEW ? PREVIOUS : NEW);
    await g.db.transaction((r) =>
      r.instanceConfigs.recordAcks(CASES.map((c) => ({ instanceId: c.instanceId, profileName: 'ack-rule', version: ackedVersion(c), success: c.success, reloadMs: 5, error: c.error }))),
    );
    const rows = await g.tdb.query<{ instance_id: string; state: TargetState; error: string | null }>(
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
