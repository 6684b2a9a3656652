import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../support/api.js';
import { type DeploymentShape, type Fleet, HEALTHY, type Phases, startDeployment, waitForDeployment } from '../support/fleet.js';
import {
  activeVersion,
  DEGRADED,
  type Detailed,
  detailed,
  fleetOnVersion1,
  type ProgressiveOptions,
  receivedVersion,
  runProgressive,
} from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs, type TestWsClient } from '../support/ws-client.js';

const EVENTS = 'subscription($id: ID!) { deploymentEvents(id: $id) { type status phase message health { healthy reasons } } }';

interface StreamedEvent {
  type: string;
  status: string;
  phase: number;
  message: string | null;
  health: { healthy: boolean; reasons: string[] } | null;
}

describe('canary deployments', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];
  const sockets: TestWsClient[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(sockets.map((s) => s.dispose()));
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

  describe('with healthy instances', () => {
    let f: Fleet;
    let d: DeploymentShape;
    let details: Detailed;
    let streamed: StreamedEvent[];
    beforeAll(async () => {
      f = (await fleetOnVersion1(a, 'canary-ok', { count: 10, fleets })).f;
      const started = await startDeployment(a, { profileName: 'canary-ok', version: 2, strategy: 'CANARY', canary: { bakeSeconds: 1 }, ackTimeoutSeconds: 5 });
      const ws = connectWs(server.url, server.adminToken);
      sockets.push(ws);
      const events = ws.subscribe<{ deploymentEvents: StreamedEvent }>(EVENTS, { id: started.id });
      d = await waitForDeployment(a, started.id, 20_000);
      await Promise.race([events.ended, new Promise((r) => setTimeout(r, 5000))]);
      streamed = events.pending.map((m) => m.data?.deploymentEvents).filter((e): e is StreamedEvent => e !== undefined);
      details = await detailed(a, started.id);
    }, 30_000);
    afterAll(() => stopFleet(f));

    it('completes all 4 phases of 1, 2, 2 and 5 instances', () => {
      expect(d.status).toBe('COMPLETED');
      expect(d.phaseCount).toBe(4);
      const sizes = [1, 2, 3, 4].map((p) => d.targets.filter((t) => t.phase === p).length);
      expect(sizes).toEqual([1, 2, 2, 5]);
      expect(d.targets.every((t) => t.state === 'APPLIED')).toBe(true);
      for (const i of f.instances) expect(i.appliedVersion()).toBe(2);
    });

    it('judges health after every phase, healthy each time', () => {
      const checks = details.events.filter((e) => e.type === 'HEALTH_CHECKED');
      expect(checks.map((e) => e.phase)).toEqual([1, 2, 3, 4]);
      expect(checks.every((e) => e.health?.healthy === true)).toBe(true);
      expect(details.health).toMatchObject({ healthy: true, reasons: [], insufficientData: false });
    });

    it('records its events in order: each phase starts, completes, is judged, then the next starts', () => {
      const seq = details.events.map((e) => `${e.type}:${e.phase}`);
      const phaseEvents = [1, 2, 3, 4].flatMap((p) => [`PHASE_STARTED:${p}`, `PHASE_COMPLETED:${p}`, `HEALTH_CHECKED:${p}`]);
      expect(seq).toEqual(['STARTED:0', ...phaseEvents, 'COMPLETED:4']);
      // Baking comes between a phase's acks and its verdict.
      const completed = details.events.filter((e) => e.type === 'PHASE_COMPLETED');
      for (const e of completed) expect(e.message).toMatch(/baking 1 s before judging health/);
    });

    it('puts the verdict on every HEALTH_CHECKED event, and lists the checks oldest first in healthChecks', () => {
      const checked = details.events.filter((e) => e.type === 'HEALTH_CHECKED');
      for (const e of checked) expect(e.health).toEqual({ healthy: true, reasons: [] });
      // Only HEALTH_CHECKED events carry a verdict in a healthy run.
      expect(details.events.filter((e) => e.type !== 'HEALTH_CHECKED').every((e) => e.health === null)).toBe(true);
      expect(details.healthChecks).toHaveLength(4);
      expect(details.healthChecks.every((h) => h.healthy && !h.insufficientData && h.reasons.length === 0)).toBe(true);
      const times = details.healthChecks.map((h) => Date.parse(h.checkedAt));
      expect([...times].sort((x, y) => x - y)).toEqual(times);
      // Each check judged the updated instances' own metrics.
      expect(details.healthChecks.at(-1)!.current.errorRate).toBeCloseTo(0.01, 5);
      expect(details.health!.checkedAt).toBe(details.healthChecks.at(-1)!.checkedAt);
    });

    it('makes the new version the profile\'s active one', async () => {
      expect(await activeVersion(a, 'canary-ok')).toBe(2);
    });

    it('streams PHASE_STARTED, HEALTH_CHECKED and COMPLETED live on deploymentEvents, then ends', () => {
      expect(streamed[0]?.type).toBe('CURRENT_STATE');
      const live = streamed.slice(1);
      const types = live.map((e) => e.type);
      expect(types).toContain('PHASE_STARTED');
      expect(types).toContain('HEALTH_CHECKED');
      expect(types.at(-1)).toBe('COMPLETED');
      expect(live.at(-1)!.status).toBe('COMPLETED');
      // Subscribed within a second of the start (bakeSeconds 1): at least the verdicts of phases 2 to 4 come live.
      const checkedPhases = live.filter((e) => e.type === 'HEALTH_CHECKED').map((e) => e.phase);
      expect(checkedPhases.slice(-3)).toEqual([2, 3, 4]);
      expect(live.filter((e) => e.type === 'HEALTH_CHECKED').every((e) => e.health?.healthy === true)).toBe(true);
      // The stream is the stored history from some point on: nothing lost, nothing reordered.
      const stored = details.events.map((e) => `${e.type}:${e.phase}`);
      expect(stored.slice(stored.length - live.length)).toEqual(live.map((e) => `${e.type}:${e.phase}`));
    });
  });

  describe('when the updated instances degrade in phase 2', () => {
    let f: Fleet;
    let phases: Phases;
    let d: DeploymentShape;
    let details: Detailed;
    beforeAll(async () => {
      const r = await runCanary('canary-bad', 10, {
        metricsOf: (i, p) => (i.appliedVersion() === 2 && p.of(i.id) === 2 ? DEGRADED : HEALTHY),
      });
      ({ f, phases } = r);
      d = r.d!;
      details = await detailed(a, d.id);
    }, 30_000);
    afterAll(() => stopFleet(f));

    it('rolls back by itself, saying why', () => {
      expect(d.status).toBe('ROLLED_BACK');
      expect(details.rollbackReason).toMatch(/phase 2 of 4: health degraded: error rate/);
      const types = details.events.map((e) => e.type);
      expect(types).toContain('ROLLBACK_STARTED');
      expect(types.at(-1)).toBe('ROLLED_BACK');
      expect(details.events.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2]);
    });

    it('gives every instance the previous version back, and never pushed phases 3 and 4', () => {
      for (const t of d.targets) {
        if (t.phase <= 2) expect(t.state).toBe('ROLLED_BACK');
        else expect(t.state).toBe('PENDING');
      }
      for (const i of f.instances) expect(i.appliedVersion()).toBe(1);
    });

    it('never sent version 2 to the instances of phases 3 and 4', () => {
      const unreached = [...phases.instancesOf(f, 3), ...phases.instancesOf(f, 4)];
      expect(unreached).toHaveLength(7);
      for (const i of unreached) {
        expect(receivedVersion(i, 2)).toBe(0);
        expect(receivedVersion(i, 1)).toBe(1);
      }
      // Phases 1 and 2 got version 2, then version 1 again.
      for (const i of [...phases.instancesOf(f, 1), ...phases.instancesOf(f, 2)]) {
        expect(i.received.map((r) => r.update.version)).toEqual([1, 2, 1]);
      }
    });

    it('explains the verdict per metric in readable reasons: error rate and p99 latency against the control group', () => {
      expect(details.healthChecks.map((h) => h.healthy)).toEqual([true, false]);
      expect(details.health?.healthy).toBe(false);
      expect(details.health?.insufficientData).toBe(false);
      const reasons = details.health!.reasons;
      expect(reasons.some((r) => /^error rate: canary median [\d.]+ % vs control 1 % \(n=\d+\/\d+\), p[<=][\d.]+, \+[\d.]+ points? > tolerance 0\.5: FAIL$/.test(r))).toBe(true);
      expect(details.health!.metrics.map((m) => [m.name, m.verdict])).toEqual([['errorRate', 'FAIL'], ['latencyP99Ms', 'FAIL']]);
      const rollbackStarted = details.events.find((e) => e.type === 'ROLLBACK_STARTED');
      expect(rollbackStarted?.health?.healthy).toBe(false);
    });

    it('leaves the previous version active on the profile', async () => {
      expect(await activeVersion(a, 'canary-bad')).toBe(1);
    });
  });

  describe('with custom phases [0.5, 1.0]', () => {
    let r: Awaited<ReturnType<typeof runCanary>>;
    beforeAll(async () => {
      r = await runCanary('canary-halves', 4, { input: { canary: { phases: [0.5, 1.0], bakeSeconds: 1 } } });
    }, 30_000);
    afterAll(() => stopFleet(r?.f));

    it('runs two phases of half the fleet each and completes', async () => {
      const d = r.d!;
      expect(d.status).toBe('COMPLETED');
      expect(d.phaseCount).toBe(2);
      expect([1, 2].map((p) => d.targets.filter((t) => t.phase === p).length)).toEqual([2, 2]);
      const details = await detailed(a, d.id);
      expect(details.events.filter((e) => e.type === 'HEALTH_CHECKED').map((e) => e.phase)).toEqual([1, 2]);
      for (const i of r.f.instances) expect(i.appliedVersion()).toBe(2);
      expect(await activeVersion(a, 'canary-halves')).toBe(2);
    });
  });
});
