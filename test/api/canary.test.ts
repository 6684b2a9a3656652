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
import { connectWs, type TestWsClient } from '../support/ws-client.js';

const DEGRADED = { errorRate: 0.3, latencyP99Ms: 480, requestCount: 200 };
const WITH_HEALTH = `query($id: ID!) { deployment(id: $id) {
  status phase phaseCount rollbackReason failureReason
  health { ${HEALTH_FIELDS} }
  healthChecks { ${HEALTH_FIELDS} }
  events(last: 200) { ${EVENT_FIELDS} health { healthy reasons } }
  targets { instanceId phase state }
} }`;
const ACTIVE_VERSION = 'query($n: String!) { profile(name: $n) { activeVersion { version } } }';
const COUNT_DEPLOYMENTS = 'query($p: String) { deployments(profileName: $p) { totalCount } }';
const RESUME = 'mutation($id: ID!) { resumeDeployment(id: $id) { status } }';
const EVENTS = 'subscription($id: ID!) { deploymentEvents(id: $id) { type status phase message health { healthy reasons } } }';

interface Report {
  healthy: boolean;
  reasons: string[];
  insufficientData: boolean;
  checkedAt: string;
  current: { errorRate: number | null; latencyP99Ms: number | null; custom: Record<string, number> | null };
}

interface Detailed {
  status: string;
  phase: number;
  phaseCount: number;
  rollbackReason: string | null;
  failureReason: string | null;
  health: Report | null;
  healthChecks: Report[];
  events: Array<{ type: string; phase: number; status: string; message: string | null; at: string; health: { healthy: boolean; reasons: string[] } | null }>;
  targets: Array<{ instanceId: string; phase: number; state: string }>;
}

interface StreamedEvent {
  type: string;
  status: string;
  phase: number;
  message: string | null;
  health: { healthy: boolean; reasons: string[] } | null;
}


const receivedVersion = (i: SimInstance, version: number) => i.received.filter((r) => r.update.version === version).length;

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

  const detailed = async (id: string) => ok(await a.gql<{ deployment: Detailed }>(WITH_HEALTH, { id })).deployment;
  const activeVersion = async (name: string) =>
    ok(await a.gql<{ profile: { activeVersion: { version: number } | null } }>(ACTIVE_VERSION, { n: name })).profile.activeVersion?.version ?? null;
  const countDeployments = async (name: string) => ok(await a.gql<{ deployments: { totalCount: number } }>(COUNT_DEPLOYMENTS, { p: name })).deployments.totalCount;
  /** Heartbeats stop once a group's deployment is over, so the 2 cores go to the next group. */
  const stopFleet = async (f: Fleet | undefined) => {
    if (f) await f.stop();
  };

  /** A profile with versions 1 and 2, version 1 active on a fleet of `count` that reports metrics by the version it runs. */
  async function setUp(name: string, count: number, metricsOf: (i: SimInstance) => Record<string, unknown>): Promise<Fleet> {
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    await publish(a, name, { v: 1 });
    await publish(a, name, { v: 2 });
    const f = await startFleet(a, { service: `${name}-svc`, count });
    fleets.push(f);
    expect((await deployAndWait(a, name, 1)).status).toBe('COMPLETED');
    f.reportMetrics(100, metricsOf);
    await new Promise((r) => setTimeout(r, 400));
    return f;
  }

  /** setUp, then version 2 as a canary with `extra` options; acks of version 2 as `decide(phase)` says. */
  async function runCanary(
    name: string,
    count: number,
    opts: {
      metricsOf?: (i: SimInstance, phases: Phases) => Record<string, unknown>;
      decide?: (phase: number | undefined) => AckDecision;
      input?: Record<string, unknown>;
      wait?: boolean;
    } = {},
  ): Promise<{ f: Fleet; phases: Phases; started: DeploymentShape; d: DeploymentShape | null }> {
    const phases = new Phases();
    const f = await setUp(name, count, (i) => (opts.metricsOf ? opts.metricsOf(i, phases) : HEALTHY));
    for (const i of f.instances) i.behavior = byPhase(phases, opts.decide ?? (() => ({ success: true, reloadMs: 2 })));
    const started = await startDeployment(a, {
      profileName: name,
      version: 2,
      strategy: 'CANARY',
      canary: { bakeSeconds: 1 },
      ackTimeoutSeconds: 5,
      ...opts.input,
    });
    phases.fill(started);
    const d = opts.wait === false ? null : await waitForDeployment(a, started.id, 25_000);
    return { f, phases, started, d };
  }

  describe('with healthy instances', () => {
    let f: Fleet;
    let d: DeploymentShape;
    let details: Detailed;
    let streamed: StreamedEvent[];
    beforeAll(async () => {
      f = await setUp('canary-ok', 10, () => HEALTHY);
      const started = await startDeployment(a, { profileName: 'canary-ok', version: 2, strategy: 'CANARY', canary: { bakeSeconds: 1 }, ackTimeoutSeconds: 5 });
      const ws = connectWs(server.url, server.adminToken);
      sockets.push(ws);
      const events = ws.subscribe<{ deploymentEvents: StreamedEvent }>(EVENTS, { id: started.id });
      d = await waitForDeployment(a, started.id, 20_000);
      await Promise.race([events.ended, new Promise((r) => setTimeout(r, 5000))]);
      streamed = events.pending.map((m) => m.data?.deploymentEvents).filter((e): e is StreamedEvent => e !== undefined);
      details = await detailed(started.id);
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
      expect(await activeVersion('canary-ok')).toBe(2);
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
      details = await detailed(d.id);
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

    it('explains the verdict in readable reasons: error rate and p99 latency against the baseline', () => {
      expect(details.healthChecks.map((h) => h.healthy)).toEqual([true, false]);
      expect(details.health?.healthy).toBe(false);
      expect(details.health?.insufficientData).toBe(false);
      const reasons = details.health!.reasons;
      expect(reasons.some((r) => /^error rate [\d.]+% vs baseline 1\.0%: \+[\d.]+ points > 5\.0$/.test(r))).toBe(true);
      expect(reasons.some((r) => /^p99 latency [\d.]+ ms vs baseline 100 ms: \+[\d.]+% > 50%$/.test(r))).toBe(true);
      const rollbackStarted = details.events.find((e) => e.type === 'ROLLBACK_STARTED');
      expect(rollbackStarted?.health?.healthy).toBe(false);
    });

    it('leaves the previous version active on the profile', async () => {
      expect(await activeVersion('canary-bad')).toBe(1);
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
      const details = await detailed(d.id);
      expect(details.events.filter((e) => e.type === 'HEALTH_CHECKED').map((e) => e.phase)).toEqual([1, 2]);
      for (const i of r.f.instances) expect(i.appliedVersion()).toBe(2);
      expect(await activeVersion('canary-halves')).toBe(2);
    });
  });

  describe('when the phase 1 instance fails to apply', () => {
    let r: Awaited<ReturnType<typeof runCanary>>;
    let details: Detailed;
    beforeAll(async () => {
      r = await runCanary('canary-ackfail', 5, {
        decide: (phase) => (phase === 1 ? { success: false, error: 'config rejected: bad pool size' } : { success: true }),
      });
      details = await detailed(r.started.id);
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
      expect(await activeVersion('canary-ackfail')).toBe(1);
    });
  });

  describe('with autoRollback off', () => {
    it('fails when an instance does not apply, and restores nothing', async () => {
      const r = await runCanary('canary-noauto-fail', 5, {
        decide: (phase) => (phase === 1 ? { success: false, error: 'disk full' } : { success: true }),
        input: { health: { autoRollback: false } },
      });
      try {
        const details = await detailed(r.started.id);
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
        const paused = await pollUntil(() => detailed(id), (x) => x.status !== 'IN_PROGRESS' && x.status !== 'PENDING', { timeoutMs: 15_000, what: 'the pause' });
        expect(paused.status).toBe('PAUSED');
        expect(paused.phase).toBe(1);
        const pausedEvent = paused.events.find((e) => e.type === 'PAUSED');
        expect(pausedEvent?.message).toMatch(/^phase 1 of 3: health degraded: .*error rate.*; autoRollback is off: resume to go on, or roll back$/);
        expect(pausedEvent?.health?.healthy).toBe(false);
        for (const i of [...r.phases.instancesOf(r.f, 2), ...r.phases.instancesOf(r.f, 3)]) expect(receivedVersion(i, 2)).toBe(0);

        expect(ok(await a.gql<{ resumeDeployment: { status: string } }>(RESUME, { id })).resumeDeployment.status).toBe('IN_PROGRESS');
        // The phase is judged again, still degraded, and accepted: phase 2 starts.
        await pollUntil(() => detailed(id), (x) => x.events.some((e) => e.type === 'PHASE_STARTED' && e.phase === 2) || x.status !== 'IN_PROGRESS', {
          timeoutMs: 15_000,
          what: 'phase 2 to start',
        });
        recovered = true;
        const [canary] = r.phases.instancesOf(r.f, 1);
        // Push the degraded samples out of its recent history (20 heartbeats).
        for (let n = 0; n < 20; n++) await canary!.heartbeat(HEALTHY);

        const done = await waitForDeployment(a, id, 25_000);
        expect(done.status).toBe('COMPLETED');
        const details = await detailed(id);
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
        expect(await activeVersion(name)).toBe(2);
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
        const details = await detailed(r.started.id);
        expect(r.d!.status).toBe('ROLLED_BACK');
        expect(details.rollbackReason).toMatch(/^phase 1 of 4: health degraded: .*queueDepth/);
        expect(details.health?.reasons).toContain('custom metric queueDepth 50 > 10');
        // Error rate and latency did not move: the custom metric alone decided.
        expect(details.health?.reasons).toHaveLength(1);
        for (const i of r.f.instances) expect(i.appliedVersion()).toBe(1);
        expect(await activeVersion(name)).toBe(1);
      } finally {
        await stopFleet(r.f);
      }
    }, 30_000);

    it('rolls back when p99 latency grows more than maxLatencyIncreasePct', async () => {
      const name = 'canary-latency';
      // +40%: within the default 50%, above the 20% asked for here.
      const r = await runCanary(name, 4, {
        input: { health: { maxLatencyIncreasePct: 20 } },
        metricsOf: (i) => (i.appliedVersion() === 2 ? { ...HEALTHY, latencyP99Ms: 140 } : HEALTHY),
      });
      try {
        const details = await detailed(r.started.id);
        expect(r.d!.status).toBe('ROLLED_BACK');
        expect(details.rollbackReason).toMatch(/^phase 1 of 4: health degraded: p99 latency 140 ms vs baseline 100 ms: \+40% > 20%/);
        expect(details.health?.reasons.every((reason) => reason.startsWith('p99 latency 140 ms vs '))).toBe(true);
        for (const i of r.f.instances) expect(i.appliedVersion()).toBe(1);
        expect(await activeVersion(name)).toBe(1);
      } finally {
        await stopFleet(r.f);
      }
    }, 30_000);
  });

  describe('refused inputs', () => {
    const name = 'canary-input';
    beforeAll(async () => {
      await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
      await publish(a, name, { v: 1 });
      // Connected, so that "nothing to deploy to" is never why these are refused.
      await startInstance(a, { service: `${name}-svc` });
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
      expect(await countDeployments(name)).toBe(0);
      expect(await activeVersion(name)).toBeNull();
    });
  });
});
