import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, expectRefused } from '../support/api.js';
import { type Fleet, HEALTHY, type Phases, type SimInstance, START_DEPLOYMENT } from '../support/fleet.js';
import {
  activeVersion,
  countDeployments,
  DEGRADED,
  type Detailed,
  detailed,
  type ProgressiveOptions,
  type ProgressiveRun,
  refusalProfile,
  runProgressive,
} from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';

const versionsReceived = (i: SimInstance) => i.received.map((r) => r.update.version);

interface Run extends ProgressiveRun {
  batches: Phases;
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

  /** Heartbeats stop once a group's deployment is over, so the 2 cores go to the next group. */
  const stopFleet = async (f: Fleet | undefined) => {
    if (f) await f.stop();
  };
  const batchSizes = (d: { phaseCount: number; targets: Array<{ phase: number }> }) =>
    Array.from({ length: d.phaseCount }, (_, i) => d.targets.filter((t) => t.phase === i + 1).length);

  /** Version 2 rolled out with `o.input` over a fleet on version 1 (see runProgressive); `batches` are its phases. */
  async function runRolling(name: string, count: number, o: Omit<ProgressiveOptions, 'strategy' | 'fleets'> = {}): Promise<Run> {
    const r = await runProgressive(a, name, count, { ...o, strategy: 'ROLLING', fleets });
    return { ...r, batches: r.phases };
  }

  describe('a rolling deployment whose third batch fails ack', () => {
    let r: Run;
    let details: Detailed;
    beforeAll(async () => {
      r = await runRolling('rolling-batch3', 8, {
        input: { rolling: { batchSize: 2, intervalSeconds: 0 } },
        decide: (batch) => (batch === 3 ? { success: false, error: 'cannot parse config' } : { success: true, reloadMs: 3 }),
      });
      details = await detailed(a, r.started.id);
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
      expect(await activeVersion(a, 'rolling-batch3')).toBe(1);
    });
  });

  describe('rollbacks', () => {
    it('rolls back when batch 2 does not ack in time (TIMED_OUT)', async () => {
      const r = await runRolling('rolling-timeout', 4, {
        input: { rolling: { batchSize: 2, intervalSeconds: 0 }, ackTimeoutSeconds: 2 },
        decide: (batch) => (batch === 2 ? 'ignore' : { success: true }),
      });
      try {
        const details = await detailed(a, r.started.id);
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
        expect(await activeVersion(a, 'rolling-timeout')).toBe(1);
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
        const details = await detailed(a, r.started.id);
        expect(r.d!.status).toBe('ROLLED_BACK');
        expect(details.rollbackReason).toMatch(/^phase 2 of 3: health degraded: error rate: canary median 30 % vs control 1 % \(n=\d+\/\d+\), p<0\.001, \+29 points > tolerance 0\.5: FAIL/);
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
        const details = await detailed(a, r.started.id);
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
      await refusalProfile(a, name);
    });

    it.each([
      ['both batchSize and batchPercent', { batchSize: 2, batchPercent: 50 }, 'rolling', /not both/],
      ['batchPercent 0', { batchPercent: 0 }, 'rolling.batchPercent', /rolling\.batchPercent must be a percentage in \(0, 100\]/],
    ])('refuses %s (BAD_USER_INPUT) and writes nothing', async (_label, rolling, field, message) => {
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: name, version: 1, strategy: 'ROLLING', rolling } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      expect(res.errors?.[0]?.message).toMatch(message);
      expect(await countDeployments(a, name)).toBe(0);
      expect(await activeVersion(a, name)).toBeNull();
    });
  });
});
