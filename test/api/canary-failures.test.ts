import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import { type Fleet, HEALTHY, START_DEPLOYMENT, waitForDeployment } from '../support/fleet.js';
import {
  activeVersion,
  countDeployments,
  DEGRADED,
  type Detailed,
  detailed,
  type ProgressiveOptions,
  receivedVersion,
  refusalProfile,
  runProgressive,
} from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const RESUME = 'mutation($id: ID!) { resumeDeployment(id: $id) { status } }';

describe('canary deployments', () => {
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
  /** Version 2 as a canary baking 1 s (unless `o.input` says otherwise) over a fleet on version 1. */
  const runCanary = (name: string, count: number, o: Omit<ProgressiveOptions, 'strategy' | 'fleets'> = {}) =>
    runProgressive(a, name, count, { ...o, strategy: 'CANARY', input: { canary: { bakeSeconds: 1 }, ...o.input }, fleets });

  describe('when the phase 1 instance fails to apply', () => {
    let r: Awaited<ReturnType<typeof runCanary>>;
    let details: Detailed;
    beforeAll(async () => {
      r = await runCanary('canary-ackfail', 5, {
        decide: (phase) => (phase === 1 ? { success: false, error: 'config rejected: bad pool size' } : { success: true }),
      });
      details = await detailed(a, r.started.id);
    }, 30_000);
    afterAll(() => stopFleet(r?.f));

    it('rolls back (autoRollback is on by default), naming the instance and its error', () => {
      const [failing] = r.phases.instancesOf(r.f, 1);
      expect(r.d!.status).toBe('ROLLED_BACK');
      expect(details.rollbackReason).toContain('phase 1 of 4');
      expect(details.rollbackReason).toContain(failing!.id);
      expect(details.rollbackReason).toContain('config rejected: bad pool size');
      // No verdict on health for a phase whose instances did not apply.
      expect(details.events.some((e) => e.type === 'HEALTH_CHECKED')).toBe(false);
      expect(details.events.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1]);
    });

    it('gives the failing instance version 1 again and pushes nothing to the others', async () => {
      const [failing] = r.phases.instancesOf(r.f, 1);
      expect(failing!.received.map((u) => u.update.version)).toEqual([1, 2, 1]);
      expect(failing!.appliedVersion()).toBe(1);
      for (const t of r.d!.targets) expect(t.state).toBe(t.phase === 1 ? 'ROLLED_BACK' : 'PENDING');
      for (const i of r.f.instances.filter((x) => x !== failing)) expect(receivedVersion(i, 2)).toBe(0);
      expect(await activeVersion(a, 'canary-ackfail')).toBe(1);
    });
  });

  describe('with autoRollback off', () => {
    it('fails when an instance does not apply, and restores nothing', async () => {
      const r = await runCanary('canary-noauto-fail', 5, {
        decide: (phase) => (phase === 1 ? { success: false, error: 'disk full' } : { success: true }),
        input: { health: { autoRollback: false } },
      });
      try {
        const details = await detailed(a, r.started.id);
        const [failing] = r.phases.instancesOf(r.f, 1);
        expect(r.d!.status).toBe('FAILED');
        expect(details.failureReason).toContain(failing!.id);
        expect(details.failureReason).toContain('disk full');
        const types = details.events.map((e) => e.type);
        expect(types).not.toContain('ROLLBACK_STARTED');
        expect(types.at(-1)).toBe('FAILED');
        // No restore push: the failing instance got version 2 once and nothing after it.
        expect(failing!.received.map((u) => u.update.version)).toEqual([1, 2]);
        for (const t of r.d!.targets) expect(t.state).toBe(t.phase === 1 ? 'FAILED' : 'PENDING');
      } finally {
        await stopFleet(r.f);
      }
    }, 30_000);

    it('pauses on degraded health saying autoRollback is off; resumed, it accepts that phase and completes', async () => {
      let recovered = false;
      const name = 'canary-noauto-pause';
      const r = await runCanary(name, 5, {
        // Phases of 1, 2 and 2 instances; the phase-1 canary is degraded on version 2 until told to recover.
        input: { canary: { phases: [0.2, 0.6, 1.0], bakeSeconds: 2 }, health: { autoRollback: false } },
        metricsOf: (i, p) => (i.appliedVersion() === 2 && p.of(i.id) === 1 && !recovered ? DEGRADED : HEALTHY),
        wait: false,
      });
      try {
        const id = r.started.id;
        const paused = await pollUntil(() => detailed(a, id), (x) => x.status !== 'IN_PROGRESS' && x.status !== 'PENDING', { timeoutMs: 15_000, what: 'the pause' });
        expect(paused.status).toBe('PAUSED');
        expect(paused.phase).toBe(1);
        const pausedEvent = paused.events.find((e) => e.type === 'PAUSED');
        expect(pausedEvent?.message).toMatch(/^phase 1 of 3: health degraded: .*error rate.*; autoRollback is off: resume to go on, or roll back$/);
        expect(pausedEvent?.health?.healthy).toBe(false);
        for (const i of [...r.phases.instancesOf(r.f, 2), ...r.phases.instancesOf(r.f, 3)]) expect(receivedVersion(i, 2)).toBe(0);

        expect(ok(await a.gql<{ resumeDeployment: { status: string } }>(RESUME, { id })).resumeDeployment.status).toBe('IN_PROGRESS');
        // The phase is judged again, still degraded, and accepted: phase 2 starts.
        await pollUntil(() => detailed(a, id), (x) => x.events.some((e) => e.type === 'PHASE_STARTED' && e.phase === 2) || x.status !== 'IN_PROGRESS', {
          timeoutMs: 15_000,
          what: 'phase 2 to start',
        });
        recovered = true;
        const [canary] = r.phases.instancesOf(r.f, 1);
        // Push the degraded samples out of its recent history (20 heartbeats).
        for (let n = 0; n < 20; n++) await canary!.heartbeat(HEALTHY);

        const done = await waitForDeployment(a, id, 25_000);
        expect(done.status).toBe('COMPLETED');
        const details = await detailed(a, id);
        const seq = details.events.map((e) => `${e.type}:${e.phase}`);
        const resumedAt = seq.indexOf('RESUMED:1');
        expect(resumedAt).toBeGreaterThan(seq.indexOf('PAUSED:1'));
        // After RESUMED: phase 1 judged again (still degraded), then phase 2 starts.
        expect(seq.slice(resumedAt, resumedAt + 3)).toEqual(['RESUMED:1', 'HEALTH_CHECKED:1', 'PHASE_STARTED:2']);
        expect(details.events[resumedAt + 1]!.health?.healthy).toBe(false);
        expect(details.events.filter((e) => e.type === 'PAUSED')).toHaveLength(1);
        expect(details.events.filter((e) => e.type === 'HEALTH_CHECKED' && e.phase > 1).every((e) => e.health?.healthy === true)).toBe(true);
        expect(seq.at(-1)).toBe('COMPLETED:3');
        for (const i of r.f.instances) expect(i.appliedVersion()).toBe(2);
        expect(await activeVersion(a, name)).toBe(2);
      } finally {
        await stopFleet(r.f);
      }
    }, 60_000);
  });

  describe('health limits', () => {
    it('rolls back when a custom metric exceeds its threshold, naming the metric', async () => {
      const name = 'canary-custom';
      const r = await runCanary(name, 4, {
        input: { health: { customThresholds: { queueDepth: 10 } } },
        metricsOf: (i) => ({ ...HEALTHY, custom: { queueDepth: i.appliedVersion() === 2 ? 50 : 2 } }),
      });
      try {
        const details = await detailed(a, r.started.id);
        expect(r.d!.status).toBe('ROLLED_BACK');
        expect(details.rollbackReason).toMatch(/^phase 1 of 4: health degraded: .*queueDepth/);
        // The median of the canary's samples: 50, whatever a first heartbeat whose interval began on version 1 said.
        expect(details.health?.reasons).toEqual([expect.stringMatching(/^queueDepth: canary median 50 \(n=\d+\) > limit 10: FAIL$/)]);
        for (const i of r.f.instances) expect(i.appliedVersion()).toBe(1);
        expect(await activeVersion(a, name)).toBe(1);
      } finally {
        await stopFleet(r.f);
      }
    }, 30_000);

    it('rolls back when p99 latency grows more than maxLatencyIncreasePct', async () => {
      const name = 'canary-latency';
      // +40 %: above the 20 % fixed limit asked for here (and the rank test's default tolerance of 10 %).
      const r = await runCanary(name, 4, {
        input: { health: { maxLatencyIncreasePct: 20 } },
        metricsOf: (i) => (i.appliedVersion() === 2 ? { ...HEALTHY, latencyP99Ms: 140 } : HEALTHY),
      });
      try {
        const details = await detailed(a, r.started.id);
        expect(r.d!.status).toBe('ROLLED_BACK');
        // The rank test (tolerance 10 % by default) and the fixed limit asked for both see it, against the instances not yet updated.
        expect(details.rollbackReason).toMatch(/^phase 1 of 4: health degraded: p99 latency: canary median 140 ms vs control 100 ms \(n=\d+\/\d+\), p<0\.001, \+40 ms > tolerance 10: FAIL; /);
        expect(details.health?.reasons).toEqual([
          expect.stringMatching(/^p99 latency: canary median 140 ms vs control 100 ms \(n=\d+\/\d+\), p<0\.001, \+40 ms > tolerance 10: FAIL$/),
          expect.stringMatching(/^p99 latency: canary median 140 ms vs control 100 ms \(n=\d+\/\d+\), \+40 % > limit 20 %: FAIL$/),
        ]);
        for (const i of r.f.instances) expect(i.appliedVersion()).toBe(1);
        expect(await activeVersion(a, name)).toBe(1);
      } finally {
        await stopFleet(r.f);
      }
    }, 30_000);
  });

  describe('refused inputs', () => {
    const name = 'canary-input';
    beforeAll(async () => {
      await refusalProfile(a, name);
    });

    it.each([
      ['phases not ascending', { phases: [0.5, 0.3, 1.0], bakeSeconds: 1 }, 'canary.phases', /strictly ascending/],
      ['a last phase other than 1.0', { phases: [0.1, 0.5], bakeSeconds: 1 }, 'canary.phases', /last canary phase must be 1\.0/],
      ['bakeSeconds -1', { bakeSeconds: -1 }, 'canary.bakeSeconds', /canary\.bakeSeconds/],
    ])('refuses %s (BAD_USER_INPUT) and writes nothing', async (_label, canary, field, message) => {
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: name, version: 1, strategy: 'CANARY', canary } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      expect(res.errors?.[0]?.message).toMatch(message);
      expect(await countDeployments(a, name)).toBe(0);
      expect(await activeVersion(a, name)).toBeNull();
    });
  });
});
