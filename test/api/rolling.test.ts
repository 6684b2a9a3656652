import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish } from '../support/api.js';
import {
  type AckDecision,
  deployAndWait,
  type DeploymentShape,
  EVENT_FIELDS,
  type Fleet,
  HEALTH_FIELDS,
  byPhase,
  Phases,
  startInstance,
  type SimInstance,
  START_DEPLOYMENT,
  startDeployment,
  startFleet,
  waitForDeployment,
  HEALTHY,
} from '../support/fleet.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const DEGRADED = { errorRate: 0.3, latencyP99Ms: 480, requestCount: 200 };
const DETAILS = `query($id: ID!) { deployment(id: $id) {
  status phase phaseCount progress rollbackReason failureReason
  health { ${HEALTH_FIELDS} }
  events(last: 200) { ${EVENT_FIELDS} health { healthy reasons } }
  targets { instanceId phase state }
} }`;
const ACTIVE_VERSION = 'query($n: String!) { profile(name: $n) { activeVersion { version } } }';
const COUNT_DEPLOYMENTS = 'query($p: String) { deployments(profileName: $p) { totalCount } }';
const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { status } }';

interface Detailed {
  status: string;
  phase: number;
  phaseCount: number;
  progress: number;
  rollbackReason: string | null;
  failureReason: string | null;
  health: { healthy: boolean; reasons: string[]; insufficientData: boolean } | null;
  events: Array<{ type: string; phase: number; status: string; progress: number; message: string | null; at: string; health: { healthy: boolean; reasons: string[] } | null }>;
  targets: Array<{ instanceId: string; phase: number; state: string }>;
}


const versionsReceived = (i: SimInstance) => i.received.map((r) => r.update.version);
const firstReceiptOf = (i: SimInstance, version: number) => i.received.find((r) => r.update.version === version)?.at;
const ackOf = (i: SimInstance, version: number) => i.acks.find((x) => x.version === version);

interface Run {
  f: Fleet;
  batches: Phases;
  started: DeploymentShape;
  d: DeploymentShape | null;
}

describe('rolling deployments', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  const detailed = async (id: string) => ok(await a.gql<{ deployment: Detailed }>(DETAILS, { id })).deployment;
  const activeVersion = async (name: string) =>
    ok(await a.gql<{ profile: { activeVersion: { version: number } | null } }>(ACTIVE_VERSION, { n: name })).profile.activeVersion?.version ?? null;
  const countDeployments = async (name: string) => ok(await a.gql<{ deployments: { totalCount: number } }>(COUNT_DEPLOYMENTS, { p: name })).deployments.totalCount;
  /** Heartbeats stop once a group's deployment is over, so the 2 cores go to the next group. */
  const stopFleet = async (f: Fleet | undefined) => {
    if (f) await f.stop();
  };
  const batchSizes = (d: { phaseCount: number; targets: Array<{ phase: number }> }) =>
    Array.from({ length: d.phaseCount }, (_, i) => d.targets.filter((t) => t.phase === i + 1).length);

  /**
   * A profile with versions 1 and 2, version 1 active (DIRECT) on a fleet of
   * `count` reporting metrics, then version 2 rolled out with `input`; acks of
   * version 2 as `decide(batch)` says.
   */
  async function runRolling(
    name: string,
    count: number,
    opts: {
      input?: Record<string, unknown>;
      decide?: (batch: number | undefined) => AckDecision;
      metricsOf?: (i: SimInstance, batches: Phases) => Record<string, unknown>;
      wait?: boolean;
    } = {},
  ): Promise<Run> {
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    await publish(a, name, { v: 1 });
    await publish(a, name, { v: 2 });
    const f = await startFleet(a, { service: `${name}-svc`, count });
    fleets.push(f);
    expect((await deployAndWait(a, name, 1)).status).toBe('COMPLETED');
    const batches = new Phases();
    f.reportMetrics(100, (i) => (opts.metricsOf ? opts.metricsOf(i, batches) : HEALTHY));
    await new Promise((r) => setTimeout(r, 400));
    for (const i of f.instances) i.behavior = byPhase(batches, opts.decide ?? (() => ({ success: true, reloadMs: 2 })));
    const started = await startDeployment(a, { profileName: name, version: 2, strategy: 'ROLLING', ackTimeoutSeconds: 5, ...opts.input });
    batches.fill(started);
    const d = opts.wait === false ? null : await waitForDeployment(a, started.id, 25_000);
    return { f, batches, started, d };
  }

  describe('batchSize 2 over 6 instances', () => {
    let r: Run;
    let details: Detailed;
    beforeAll(async () => {
      r = await runRolling('rolling-size', 6, { input: { rolling: { batchSize: 2, intervalSeconds: 0 } } });
      details = await detailed(r.started.id);
    }, 30_000);
    afterAll(() => stopFleet(r?.f));

    it('plans 3 batches of 2 at the start and completes them all', () => {
      expect(r.started.phaseCount).toBe(3);
      expect(batchSizes(r.started)).toEqual([2, 2, 2]);
      expect(r.d!.status).toBe('COMPLETED');
      expect(r.d!.targets.every((t) => t.state === 'APPLIED')).toBe(true);
      // The plan made at the start is the one that ran.
      expect(new Map(r.d!.targets.map((t) => [t.instanceId, t.phase]))).toEqual(new Map(r.started.targets.map((t) => [t.instanceId, t.phase])));
      for (const i of r.f.instances) expect(i.appliedVersion()).toBe(2);
    });

    it('pushes a batch only after every instance of the batch before it applied', () => {
      for (const batch of [1, 2]) {
        const acked = r.batches.instancesOf(r.f, batch).map((i) => ackOf(i, 2)!.sentAt);
        const nextReceived = r.batches.instancesOf(r.f, batch + 1).map((i) => firstReceiptOf(i, 2)!);
        expect(acked).toHaveLength(2);
        expect(nextReceived).toHaveLength(2);
        expect(Math.min(...nextReceived)).toBeGreaterThanOrEqual(Math.max(...acked));
      }
      const seq = details.events.map((e) => `${e.type}:${e.phase}`);
      const perBatch = [1, 2, 3].flatMap((b) => [`PHASE_STARTED:${b}`, `PHASE_COMPLETED:${b}`, `HEALTH_CHECKED:${b}`]);
      expect(seq).toEqual(['STARTED:0', ...perBatch, 'COMPLETED:3']);
    });

    it('grows its progress batch by batch', () => {
      const progress = details.events.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.progress);
      expect(progress).toHaveLength(3);
      expect(progress[0]).toBeCloseTo(2 / 6, 5);
      expect(progress[1]).toBeCloseTo(4 / 6, 5);
      expect(progress[2]).toBe(1);
      const started = details.events.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.progress);
      expect(started[0]).toBe(0);
      expect(started[1]).toBeCloseTo(2 / 6, 5);
      expect(details.progress).toBe(1);
    });

    it('makes version 2 the profile\'s active one', async () => {
      expect(await activeVersion('rolling-size')).toBe(2);
    });
  });

  describe('batchPercent 50 with intervalSeconds 1', () => {
    let r: Run;
    let details: Detailed;
    beforeAll(async () => {
      r = await runRolling('rolling-percent', 6, { input: { rolling: { batchPercent: 50, intervalSeconds: 1 } } });
      details = await detailed(r.started.id);
    }, 30_000);
    afterAll(() => stopFleet(r?.f));

    it('runs 2 batches of half the fleet and completes', () => {
      expect(r.started.phaseCount).toBe(2);
      expect(batchSizes(r.started)).toEqual([3, 3]);
      expect(r.d!.status).toBe('COMPLETED');
      expect(r.d!.targets.every((t) => t.state === 'APPLIED')).toBe(true);
      for (const i of r.f.instances) expect(i.appliedVersion()).toBe(2);
    });

    it('waits the interval between batches, and after the last one before judging it', () => {
      const completed1 = details.events.find((e) => e.type === 'PHASE_COMPLETED' && e.phase === 1)!;
      const started2 = details.events.find((e) => e.type === 'PHASE_STARTED' && e.phase === 2)!;
      expect(completed1.message).toMatch(/waiting 1 s before judging health/);
      expect(Date.parse(started2.at) - Date.parse(completed1.at)).toBeGreaterThanOrEqual(900);
      // The second batch's instances were sent version 2 only after the interval.
      for (const i of r.batches.instancesOf(r.f, 2)) expect(firstReceiptOf(i, 2)!).toBeGreaterThanOrEqual(Date.parse(completed1.at) + 900);
      const completed2 = details.events.find((e) => e.type === 'PHASE_COMPLETED' && e.phase === 2)!;
      const judged2 = details.events.find((e) => e.type === 'HEALTH_CHECKED' && e.phase === 2)!;
      expect(completed2.message).toMatch(/waiting 1 s before judging health/);
      expect(Date.parse(judged2.at) - Date.parse(completed2.at)).toBeGreaterThanOrEqual(900);
    });
  });

  describe('without rolling options', () => {
    let r: Run;
    let details: Detailed;
    beforeAll(async () => {
      r = await runRolling('rolling-default', 4, { wait: false });
      // Batch 1 done: the default 30 s interval before batch 2 has begun.
      details = await pollUntil(() => detailed(r.started.id), (x) => x.events.some((e) => e.type === 'PHASE_COMPLETED'), {
        timeoutMs: 15_000,
        what: 'batch 1 to complete',
      });
    }, 30_000);
    afterAll(() => stopFleet(r?.f));

    it('uses batches of 25% of the fleet and waits 30 s between them', async () => {
      expect(r.started.phaseCount).toBe(4);
      expect(batchSizes(r.started)).toEqual([1, 1, 1, 1]);
      const completed = details.events.find((e) => e.type === 'PHASE_COMPLETED')!;
      expect(completed.phase).toBe(1);
      expect(completed.message).toMatch(/waiting 30 s before judging health/);
      // Still waiting: nothing went to the later batches.
      const now = await detailed(r.started.id);
      expect(now.status).toBe('IN_PROGRESS');
      expect(now.targets.filter((t) => t.phase > 1).every((t) => t.state === 'PENDING')).toBe(true);
      for (const b of [2, 3, 4]) for (const i of r.batches.instancesOf(r.f, b)) expect(versionsReceived(i)).toEqual([1]);

      // Done looking: roll back so the profile is free.
      expect(ok(await a.gql<{ rollbackDeployment: { status: string } }>(ROLLBACK, { id: r.started.id, r: 'test over' })).rollbackDeployment.status).toBe('ROLLING_BACK');
      expect((await waitForDeployment(a, r.started.id, 15_000)).status).toBe('ROLLED_BACK');
      for (const i of r.f.instances) expect(i.appliedVersion()).toBe(1);
    }, 30_000);
  });

  describe('a rolling deployment whose third batch fails ack', () => {
    let r: Run;
    let details: Detailed;
    beforeAll(async () => {
      r = await runRolling('rolling-batch3', 8, {
        input: { rolling: { batchSize: 2, intervalSeconds: 0 } },
        decide: (batch) => (batch === 3 ? { success: false, error: 'cannot parse config' } : { success: true, reloadMs: 3 }),
      });
      details = await detailed(r.started.id);
    }, 30_000);
    afterAll(() => stopFleet(r?.f));

    it('stops and rolls back, naming the batch and the instances that failed', () => {
      expect(r.d!.status).toBe('ROLLED_BACK');
      expect(batchSizes(r.started)).toEqual([2, 2, 2, 2]);
      expect(details.rollbackReason).toMatch(/^phase 3 of 4: 2 of 2 instances did not apply: /);
      for (const i of r.batches.instancesOf(r.f, 3)) expect(details.rollbackReason).toContain(i.id);
      expect(details.rollbackReason).toContain('cannot parse config');
      expect(details.events.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2, 3]);
      const types = details.events.map((e) => e.type);
      expect(types).toContain('ROLLBACK_STARTED');
      expect(types.at(-1)).toBe('ROLLED_BACK');
    });

    it('restores batches 1–2: their targets end ROLLED_BACK and their instances applied version 1 again', () => {
      for (const b of [1, 2]) {
        for (const i of r.batches.instancesOf(r.f, b)) {
          expect(r.d!.targets.find((t) => t.instanceId === i.id)!.state).toBe('ROLLED_BACK');
          expect(versionsReceived(i)).toEqual([1, 2, 1]);
          expect(i.acks.map((x) => [x.version, x.success])).toEqual([
            [1, true],
            [2, true],
            [1, true],
          ]);
          expect(i.appliedVersion()).toBe(1);
        }
      }
      for (const i of r.batches.instancesOf(r.f, 3)) expect(i.appliedVersion()).toBe(1);
    });

    it('never pushes batch 4 (its targets stay PENDING) and leaves version 1 active', async () => {
      const batch4 = r.batches.instancesOf(r.f, 4);
      expect(batch4).toHaveLength(2);
      for (const i of batch4) {
        expect(r.d!.targets.find((t) => t.instanceId === i.id)!.state).toBe('PENDING');
        expect(versionsReceived(i)).toEqual([1]);
      }
      expect(await activeVersion('rolling-batch3')).toBe(1);
    });
  });

  describe('rollbacks', () => {
    it('rolls back when batch 2 does not ack in time (TIMED_OUT)', async () => {
      const r = await runRolling('rolling-timeout', 4, {
        input: { rolling: { batchSize: 2, intervalSeconds: 0 }, ackTimeoutSeconds: 2 },
        decide: (batch) => (batch === 2 ? 'ignore' : { success: true }),
      });
      try {
        const details = await detailed(r.started.id);
        expect(r.d!.status).toBe('ROLLED_BACK');
        expect(details.rollbackReason).toMatch(/^phase 2 of 2: 2 of 2 instances did not apply: .*TIMED_OUT/);
        for (const i of r.batches.instancesOf(r.f, 2)) expect(details.rollbackReason).toContain(i.id);
        // Batch 1 had applied version 2 and is given version 1 back.
        for (const i of r.batches.instancesOf(r.f, 1)) {
          expect(versionsReceived(i)).toEqual([1, 2, 1]);
          expect(i.appliedVersion()).toBe(1);
        }
        // The silent batch was sent version 2 too, so it is sent version 1 as well (and acks that one).
        for (const i of r.batches.instancesOf(r.f, 2)) {
          expect(versionsReceived(i)).toEqual([1, 2, 1]);
          expect(i.acks.map((x) => x.version)).toEqual([1, 1]);
        }
        for (const t of r.d!.targets) expect(t.state).toBe('ROLLED_BACK');
        expect(await activeVersion('rolling-timeout')).toBe(1);
      } finally {
        await stopFleet(r.f);
      }
    }, 30_000);

    it('rolls back when a batch degrades health, and never pushes the next batch', async () => {
      const r = await runRolling('rolling-degraded', 6, {
        input: { rolling: { batchSize: 2, intervalSeconds: 1 } },
        metricsOf: (i, b) => (i.appliedVersion() === 2 && b.of(i.id) === 2 ? DEGRADED : HEALTHY),
      });
      try {
        const details = await detailed(r.started.id);
        expect(r.d!.status).toBe('ROLLED_BACK');
        expect(details.rollbackReason).toMatch(/^phase 2 of 3: health degraded: error rate /);
        expect(details.events.filter((e) => e.type === 'HEALTH_CHECKED').map((e) => [e.phase, e.health?.healthy])).toEqual([
          [1, true],
          [2, false],
        ]);
        for (const t of r.d!.targets) expect(t.state).toBe(t.phase <= 2 ? 'ROLLED_BACK' : 'PENDING');
        for (const i of r.batches.instancesOf(r.f, 3)) expect(versionsReceived(i)).toEqual([1]);
        for (const i of r.f.instances) expect(i.appliedVersion()).toBe(1);
      } finally {
        await stopFleet(r.f);
      }
    }, 30_000);

    it('fails without restoring anything when autoRollback is off', async () => {
      const r = await runRolling('rolling-noauto', 4, {
        input: { rolling: { batchSize: 2, intervalSeconds: 0 }, health: { autoRollback: false } },
        decide: (batch) => (batch === 2 ? { success: false, error: 'port in use' } : { success: true }),
      });
      try {
        const details = await detailed(r.started.id);
        expect(r.d!.status).toBe('FAILED');
        expect(details.failureReason).toMatch(/^phase 2 of 2: 2 of 2 instances did not apply: .*port in use/);
        expect(details.events.map((e) => e.type)).not.toContain('ROLLBACK_STARTED');
        // No restore pushes: batch 1 keeps version 2, batch 2 got version 2 once and nothing after it.
        for (const i of r.f.instances) expect(versionsReceived(i)).toEqual([1, 2]);
        for (const i of r.batches.instancesOf(r.f, 1)) expect(i.appliedVersion()).toBe(2);
        for (const t of r.d!.targets) expect(t.state).toBe(t.phase === 1 ? 'APPLIED' : 'FAILED');
      } finally {
        await stopFleet(r.f);
      }
    }, 30_000);
  });

  describe('refused inputs', () => {
    const name = 'rolling-input';
    beforeAll(async () => {
      await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
      await publish(a, name, { v: 1 });
      // Connected, so that "nothing to deploy to" is never why these are refused.
      await startInstance(a, { service: `${name}-svc` });
    });

    it.each([
      ['both batchSize and batchPercent', { batchSize: 2, batchPercent: 50 }, 'rolling', /not both/],
      ['batchPercent 0', { batchPercent: 0 }, 'rolling.batchPercent', /rolling\.batchPercent must be a percentage in \(0, 100\]/],
    ])('refuses %s (BAD_USER_INPUT) and writes nothing', async (_label, rolling, field, message) => {
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: name, version: 1, strategy: 'ROLLING', rolling } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      expect(res.errors?.[0]?.message).toMatch(message);
      expect(await countDeployments(name)).toBe(0);
      expect(await activeVersion(name)).toBeNull();
    });
  });
});
