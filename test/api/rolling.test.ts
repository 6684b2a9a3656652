import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, ok } from '../support/api.js';
import { type Fleet, type Phases, type SimInstance, waitForDeployment } from '../support/fleet.js';
import {
  activeVersion,
  type Detailed,
  detailed,
  type ProgressiveOptions,
  type ProgressiveRun,
  runProgressive,
} from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { status } }';

const firstReceiptOf = (i: SimInstance, version: number) => i.received.find((r) => r.update.version === version)?.at;
const ackOf = (i: SimInstance, version: number) => i.acks.find((x) => x.version === version);
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

  describe('batchSize 2 over 6 instances', () => {
    let r: Run;
    let details: Detailed;
    beforeAll(async () => {
      r = await runRolling('rolling-size', 6, { input: { rolling: { batchSize: 2, intervalSeconds: 0 } } });
      details = await detailed(a, r.started.id);
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
      expect(await activeVersion(a, 'rolling-size')).toBe(2);
    });
  });

  describe('batchPercent 50 with intervalSeconds 1', () => {
    let r: Run;
    let details: Detailed;
    beforeAll(async () => {
      r = await runRolling('rolling-percent', 6, { input: { rolling: { batchPercent: 50, intervalSeconds: 1 } } });
      details = await detailed(a, r.started.id);
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
      details = await pollUntil(() => detailed(a, r.started.id), (x) => x.events.some((e) => e.type === 'PHASE_COMPLETED'), {
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
      const now = await detailed(a, r.started.id);
      expect(now.status).toBe('IN_PROGRESS');
      expect(now.targets.filter((t) => t.phase > 1).every((t) => t.state === 'PENDING')).toBe(true);
      for (const b of [2, 3, 4]) for (const i of r.batches.instancesOf(r.f, b)) expect(versionsReceived(i)).toEqual([1]);

      // Done looking: roll back so the profile is free.
      expect(ok(await a.gql<{ rollbackDeployment: { status: string } }>(ROLLBACK, { id: r.started.id, r: 'test over' })).rollbackDeployment.status).toBe('ROLLING_BACK');
      expect((await waitForDeployment(a, r.started.id, 15_000)).status).toBe('ROLLED_BACK');
      for (const i of r.f.instances) expect(i.appliedVersion()).toBe(1);
    }, 30_000);
  });
});
