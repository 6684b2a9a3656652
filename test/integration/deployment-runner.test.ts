import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PushMessage } from '../../src/delivery/push-message.js';
import type { Principal } from '../../src/domain/authorization.js';
import { DeploymentStrategy, Role } from '../../src/domain/enums.js';
import type { DeploymentService } from '../../src/services/deployment.service.js';
import { UnavailableError } from '../../src/domain/errors.js';
import { startTestGraph, type StoreGraph, type TestGraph } from '../support/graph.js';
import { seedInstances, seedProfile } from '../support/seed.js';

const ADMIN: Principal = { sub: 'test-admin', role: Role.ADMIN };

/** How a new deployment starts: in its creating transaction on this replica's runner, or left to any replica's claim. */
describe('DeploymentRunner as the starter of new deployments', () => {
  let g: StoreGraph;
  const published: PushMessage[] = [];
  const replicas: TestGraph[] = [];
  let counter = 0;

  beforeAll(async () => {
    g = await startTestGraph({ published, poolMax: 4 });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(replicas.splice(0).map((r) => r.runner.stop()));
    published.length = 0;
  });
  afterAll(async () => {
    await g?.stop();
  });

  /** A replica whose runner is named and sized for the test; its deployment service starts new deployments on that runner. */
  const replica = (maxConcurrent = 10) => {
    const r = g.replica({ runner: { owner: `runner-${++counter}`, leaseMs: 15_000, claimIntervalMs: 1000, maxConcurrent } });
    replicas.push(r);
    return r;
  };

  /** A profile with version 1 and two registered instances; returns the profile name. */
  async function fixture(): Promise<string> {
    const n = ++counter;
    const profileName = `starter-${n}`;
    const service = `starter-svc-${n}`;
    await seedProfile(g.db, { name: profileName, service, versions: 1 });
    await seedInstances(g.registry, [`${service}-a`, `${service}-b`], { service });
    return profileName;
  }

  const start = (service: DeploymentService, profileName: string) =>
    service.start(ADMIN, { profileName, version: 1, strategy: DeploymentStrategy.DIRECT, ackTimeoutSeconds: 30 });
  const row = async (id: string) =>
    (await g.tdb.query<{ status: string; phase: number; lease_owner: string | null }>('select status, phase, lease_owner from deployment where id = $1', [id]))[0];
  const targetStates = async (id: string) =>
    (await g.tdb.query<{ state: string }>('select state from deployment_target where deployment_id = $1 order by instance_id', [id])).map((r) => r.state);

  it('a started runner takes the lease at creation, and the first pushes are committed and published by the mutation', async () => {
    const { runner: r, deployments } = replica();
    await r.start();
    const d = await start(deployments, await fixture());
    expect(d).toMatchObject({ status: 'IN_PROGRESS', phase: 1 });
    expect(await row(d.id)).toMatchObject({ status: 'IN_PROGRESS', lease_owner: r.owner });
    expect(await targetStates(d.id)).toEqual(['PUSHED', 'PUSHED']);
    expect(published.map((p) => [p.update.deploymentId, p.targets?.length])).toEqual([[d.id, 2]]);
    expect(r.heldIds()).toEqual([d.id]);
  });

  it('writes the targets with the first pushes: as many PUSHED as may await an ack (version, deadline, assignment), the rest PENDING', async () => {
    const { runner: r, deployments } = replica();
    await r.start();
    const profileName = await fixture();
    const d = await deployments.start(ADMIN, { profileName, version: 1, strategy: DeploymentStrategy.DIRECT, direct: { maxConcurrency: 1 }, ackTimeoutSeconds: 30 });
    const targets = await g.tdb.query<{ instance_id: string; state: string; version: number | null; seconds: number | null }>(
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
    const sent = await g.tdb.query('select instance_id, sent_version, sent_deployment_id from instance_config ic join deployment d on d.profile_id = ic.profile_id where d.id = $1', [d.id]);
    expect(sent).toEqual([{ instance_id: first, sent_version: 1, sent_deployment_id: d.id }]);
    expect(published.map((p) => p.targets)).toEqual([[first]]);
    const ack = (instanceId: string) => g.db.transaction((tx) =>
      tx.instanceConfigs.recordAcks([{ instanceId, profileName, version: 1, success: true, reloadMs: 1, error: null }]));
    expect((await ack(second!)).accepted).toEqual([false]);
    expect(await ack(first!)).toEqual({ accepted: [true], deploymentIds: [d.id] });
  });

  for (const [why, make] of [
    ['not started yet (no wake-ups for its acks)', () => replica()],
    ['stopped', async () => {
      const r = replica();
      await r.runner.start();
      await r.runner.stop();
      return r;
    }],
    ['running as many deployments as it may', async () => {
      const r = replica(0);
      await r.runner.start();
      return r;
    }],
  ] as const) {
    it(`a runner ${why} leaves the new deployment PENDING, unleased, for any replica's claim`, async () => {
      const { runner: r, deployments } = await make();
      const d = await start(deployments, await fixture());
      expect(d.status).toBe('PENDING');
      expect(await row(d.id)).toMatchObject({ status: 'PENDING', phase: 0, lease_owner: null });
      expect(await targetStates(d.id)).toEqual(['PENDING', 'PENDING']);
      expect(published).toEqual([]);
      expect(r.heldIds()).toEqual([]);
    });
  }

  it('a PENDING deployment cancelled before any runner claims it ends CANCELLED: no push, no claim, the reason kept', async () => {
    const { runner: busy, deployments } = replica(0);
    await busy.start();
    const d = await start(deployments, await fixture());
    expect(d.status).toBe('PENDING');
    const cancelled = await deployments.cancel({ sub: 'otto', role: Role.OPERATOR }, d.id, '  wrong version  ');
    expect(cancelled).toMatchObject({ status: 'CANCELLED', failureReason: 'cancelled by otto: wrong version' });
    expect(cancelled.finishedAt).not.toBeNull();
    const events = await g.tdb.query<{ type: string; status: string }>('select type, status from deployment_event where deployment_id = $1 order by id', [d.id]);
    expect(events.map((e) => [e.type, e.status])).toEqual([['STARTED', 'PENDING'], ['CANCELLED', 'CANCELLED']]);
    // A runner with room does not claim it: CANCELLED is not active, and nothing was ever pushed.
    const { runner: free } = replica();
    await free.start();
    await free.claim();
    expect(free.heldIds()).not.toContain(d.id);
    expect(await targetStates(d.id)).toEqual(['PENDING', 'PENDING']);
    expect(published.filter((p) => p.update.deploymentId === d.id)).toEqual([]);
    // Cancelling again, or anything else afterwards, is a CONFLICT: CANCELLED is final.
    await expect(deployments.cancel(ADMIN, d.id, 'again')).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/CANCELLED is final/) });
    await expect(deployments.resume(ADMIN, d.id)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('a first step that fails leaves nothing written: no deployment, no targets, nothing published', async () => {
    const { runner: failing, orchestrator, deployments } = replica();
    vi.spyOn(failing, 'leaseForNew').mockReturnValue({ owner: 'doomed', ms: 15_000 });
    vi.spyOn(orchestrator, 'firstStep').mockRejectedValue(new Error('the first step failed'));
    vi.spyOn(failing, 'adopt').mockImplementation(() => {
      throw new Error('adopt must not be called');
    });
    const profileName = await fixture();
    await expect(start(deployments, profileName)).rejects.toThrow('the first step failed');
    const left = await g.tdb.query(
      'select count(*)::int as n from deployment d join config_profile p on p.id = d.profile_id where p.name = $1',
      [profileName],
    );
    expect(left).toEqual([{ n: 0 }]);
    expect(published).toEqual([]);
  });

  it('a missing version is NOT_FOUND even while the registry is down; an existing one is UNAVAILABLE then, with nothing written', async () => {
    // The graph's runner is not started: the service leaves new deployments to a claim.
    const service = g.deployments;
    const profileName = await fixture();
    vi.spyOn(g.registry, 'liveInstances').mockRejectedValue(new UnavailableError('the instance registry is unavailable'));
    await expect(service.start(ADMIN, { profileName, version: 99, strategy: DeploymentStrategy.DIRECT, ackTimeoutSeconds: 30 }))
      .rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(start(service, profileName)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(await g.tdb.query('select 1 from deployment d join config_profile p on p.id = d.profile_id where p.name = $1', [profileName])).toEqual([]);
  });
});
