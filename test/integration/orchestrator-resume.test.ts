import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage } from '../../src/delivery/push-message.js';
import { DeploymentStatus } from '../../src/domain/enums.js';
import { startTestGraph, type StoreGraph } from '../support/graph.js';
import { newDeployment, seedDeployment, seedProfile } from '../support/seed.js';

/** What a replica taking a deployment over does with pushes the dead runner may never have sent. */
describe('orchestrator takeover', () => {
  let g: StoreGraph;
  const published: PushMessage[] = [];
  const owner = 'replica-b';

  beforeAll(async () => {
    g = await startTestGraph({ published, poolMax: 3 });
  });
  afterAll(async () => {
    await g.stop();
  });

  it('re-sends every push still awaiting an ack, with its version, and nothing else', async () => {
    const profile = await seedProfile(g.db, { name: 'takeover', service: 'svc', versions: 1 });
    // Leased by this replica, which takes it over in phase 1.
    const d = newDeployment(profile, { version: 1, status: DeploymentStatus.IN_PROGRESS, startedBy: 't', lease: { owner, ms: 60_000 } });
    const deploymentId = d.id;
    await seedDeployment(g.db, d, ['a', 'b', 'c'].map((instanceId) => ({ instanceId, phase: 1 })), async (r) => {
      await r.deployments.update(deploymentId, { phase: 1 }, new Date());
      // The dead runner persisted pushes to a and b, then died before publishing; c was never pushed.
      await r.targets.markPushed(deploymentId, profile.id, ['a', 'b'], 1, 30);
    });

    await g.orchestrator.resume(deploymentId, owner);
    expect(published).toHaveLength(1);
    expect(published[0]!.targets?.sort()).toEqual(['a', 'b']);
    expect(published[0]!.update).toMatchObject({ profileName: 'takeover', version: 1, hash: 'h1', data: { v: 1 }, deploymentId });
  });

  it('refuses to resume a deployment whose lease another replica holds', async () => {
    const [row] = await g.tdb.query<{ id: string }>('select id from deployment limit 1');
    await expect(g.orchestrator.resume(row!.id, 'someone-else')).rejects.toThrow(/lost the lease/);
  });
});
