import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import { type DeploymentShape, type Fleet, readDeployment, type SimInstance, startDeployment, versionsOf, waitForDeployment } from '../support/fleet.js';
import { canaryInBake, expectUnchanged, fleetOnVersion1 } from '../support/progressive.js';
import type { GqlResponse } from '../support/server.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { connectWs, type TestSubscription, type TestWsClient } from '../support/ws-client.js';

const PAUSE = 'mutation($id: ID!) { pauseDeployment(id: $id) { id status phase } }';
const RESUME = 'mutation($id: ID!) { resumeDeployment(id: $id) { id status phase } }';
const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { id status } }';
const EVENTS = 'subscription($id: ID!) { deploymentEvents(id: $id) { type status phase message } }';
const BAKE_SECONDS = 2;

interface Control {
  pauseDeployment?: { id: string; status: string; phase: number };
  resumeDeployment?: { id: string; status: string; phase: number };
}
interface EventMsg {
  deploymentEvents: { type: string; status: string; phase: number; message: string | null };
}


describe('pauseDeployment and resumeDeployment', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];
  const sockets: TestWsClient[] = [];

  beforeAll(async () => {
    // No periodic health checks: a paused deployment must not change by itself.
    server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
    a = api(server);
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled([...fleets.map((f) => f.stop()), ...sockets.map((s) => s.dispose())]);
    await server?.stop();
  });

  const pause = (id: string, token?: string | null): Promise<GqlResponse<Control>> => a.gql<Control>(PAUSE, { id }, token);
  const resume = (id: string, token?: string | null): Promise<GqlResponse<Control>> => a.gql<Control>(RESUME, { id }, token);
  const read = async (id: string) => (await readDeployment(a, id))!;
  /** A profile with versions 1 and 2 (service `${name}-svc`), a fleet of `count` on version 1 reporting healthy metrics. */
  const setUp = async (name: string, count: number) => (await fleetOnVersion1(a, name, { count, fleets })).f;

  describe('a canary paused during its bake', () => {
    const name = 'pr-canary';
    let f: Fleet;
    let d: DeploymentShape;
    let phase1: SimInstance[];
    let phase2: SimInstance[];
    let events: TestSubscription<EventMsg>;
    let pausedAt: number;
    let final: DeploymentShape;

    beforeAll(async () => {
      f = await setUp(name, 4);
      d = await canaryInBake(a, name, 2, BAKE_SECONDS);
      const ws = connectWs(server.url, server.adminToken);
      sockets.push(ws);
      events = ws.subscribe<EventMsg>(EVENTS, { id: d.id });
      expect((await events.next(5000)).data?.deploymentEvents.type).toBe('CURRENT_STATE');
      phase1 = d.targets.filter((t) => t.phase === 1).map((t) => f.byId(t.instanceId));
      phase2 = d.targets.filter((t) => t.phase === 2).map((t) => f.byId(t.instanceId));
      expect(phase1).toHaveLength(2);
      expect(phase2).toHaveLength(2);
    }, 60_000);

    it('pauses for an OPERATOR: status PAUSED and a PAUSED event naming the caller', async () => {
      const res = ok(await pause(d.id, await a.token(Role.OPERATOR, 'otto')));
      pausedAt = Date.now();
      expect(res.pauseDeployment).toMatchObject({ id: d.id, status: 'PAUSED', phase: 1 });
      const now = await read(d.id);
      expect(now.status).toBe('PAUSED');
      const paused = now.events.filter((e) => e.type === 'PAUSED');
      expect(paused).toHaveLength(1);
      expect(paused[0]).toMatchObject({ status: 'PAUSED', phase: 1 });
      expect(paused[0]!.message).toContain('otto');
    });

    it('stays paused past the end of the bake: no health verdict, no next phase, nothing pushed', async () => {
      const wait = pausedAt + (BAKE_SECONDS + 1.5) * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const now = await read(d.id);
      expect(now.status).toBe('PAUSED');
      expect(now.phase).toBe(1);
      const types = now.events.map((e) => e.type);
      expect(types.at(-1)).toBe('PAUSED');
      expect(types).not.toContain('HEALTH_CHECKED');
      expect(now.events.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1]);
      expect(now.targets.filter((t) => t.phase === 2).every((t) => t.state === 'PENDING')).toBe(true);
      for (const i of phase2) expect(versionsOf(i)).not.toContain(2);
      d = now;
    }, 15_000);

    it('refuses to pause it again (CONFLICT)', async () => {
      const res = await pause(d.id);
      expectRefused(res, 'CONFLICT');
      expect(res.errors![0]!.message).toMatch(/PAUSED/);
      await expectUnchanged(a, d);
    });

    it('resumes for an ADMIN: a RESUMED event naming the caller, then it goes on and COMPLETES', async () => {
      const res = ok(await resume(d.id, await a.token(Role.ADMIN, 'ada')));
      expect(res.resumeDeployment?.status).toBe('IN_PROGRESS');
      // While phase 2 bakes, it is IN_PROGRESS: resuming again is a CONFLICT.
      const again = await resume(d.id);
      expectRefused(again, 'CONFLICT');
      expect(again.errors![0]!.message).toMatch(/IN_PROGRESS/);
      final = await waitForDeployment(a, d.id, 20_000);
      expect(final.status).toBe('COMPLETED');
      const resumed = final.events.filter((e) => e.type === 'RESUMED');
      expect(resumed).toHaveLength(1);
      expect(resumed[0]!.message).toContain('ada');
      const types = final.events.map((e) => e.type);
      expect(types.indexOf('RESUMED')).toBeGreaterThan(types.indexOf('PAUSED'));
      expect(types.indexOf('HEALTH_CHECKED')).toBeGreaterThan(types.indexOf('RESUMED'));
      expect(final.events.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2]);
      expect(final.targets.every((t) => t.state === 'APPLIED')).toBe(true);
    }, 30_000);

    it('continues where it stopped: phase 1 is not pushed again, every instance ends on version 2', () => {
      for (const i of phase1) expect(i.received.filter((r) => r.update.deploymentId === d.id)).toHaveLength(1);
      for (const i of f.instances) expect(i.appliedVersion()).toBe(2);
    });

    it('streams PAUSED and RESUMED on deploymentEvents, in order, before COMPLETED', async () => {
      await events.ended;
      const seen = events.pending.map((m) => m.data?.deploymentEvents);
      const types = seen.map((e) => e?.type);
      expect(types).toContain('PAUSED');
      expect(types).toContain('RESUMED');
      expect(types.indexOf('PAUSED')).toBeLessThan(types.indexOf('RESUMED'));
      expect(types.indexOf('RESUMED')).toBeLessThan(types.indexOf('COMPLETED'));
      expect(seen.find((e) => e?.type === 'PAUSED')).toMatchObject({ status: 'PAUSED', message: expect.stringContaining('otto') });
      expect(seen.find((e) => e?.type === 'RESUMED')).toMatchObject({ status: 'IN_PROGRESS', message: expect.stringContaining('ada') });
      expect(types.at(-1)).toBe('COMPLETED');
    }, 15_000);

    it('refuses pause and resume of a COMPLETED deployment (CONFLICT)', async () => {
      for (const res of [await pause(d.id), await resume(d.id)]) {
        expectRefused(res, 'CONFLICT');
        expect(res.errors![0]!.message).toMatch(/COMPLETED/);
      }
      await expectUnchanged(a, final);
    });
  });

  describe('a paused canary that is rolled back', () => {
    const name = 'pr-rollback';
    let f: Fleet;
    let d: DeploymentShape;

    beforeAll(async () => {
      f = await setUp(name, 3);
      d = await canaryInBake(a, name, 2, 30);
    }, 60_000);

    it('ends ROLLED_BACK with every instance on version 1, and cannot be resumed afterwards', async () => {
      expect(ok(await pause(d.id)).pauseDeployment?.status).toBe('PAUSED');
      ok(await a.gql(ROLLBACK, { id: d.id, r: 'paused, then gave up' }, await a.token(Role.OPERATOR)));
      const done = await waitForDeployment(a, d.id, 15_000);
      expect(done.status).toBe('ROLLED_BACK');
      const types = done.events.map((e) => e.type);
      expect(types.indexOf('PAUSED')).toBeLessThan(types.indexOf('ROLLBACK_STARTED'));
      expect(types.at(-1)).toBe('ROLLED_BACK');
      expect(types).not.toContain('RESUMED');
      await pollUntil(async () => f.instances.map((i) => i.appliedVersion()), (v) => v.every((x) => x === 1), { what: 'every instance on version 1' });
      expectRefused(await resume(d.id), 'CONFLICT');
      expectRefused(await pause(d.id), 'CONFLICT');
      await expectUnchanged(a, done);
    }, 30_000);
  });

  it('answers NOT_FOUND for an unknown deployment', async () => {
    for (const id of [randomUUID(), 'nope']) {
      expectRefused(await pause(id), 'NOT_FOUND');
      expectRefused(await resume(id), 'NOT_FOUND');
    }
  });

  it('pauses while phase 1 awaits its acks: the acks are recorded, but the phase ends only after resume', async () => {
    const name = 'pr-acks';
    const f = await setUp(name, 2);
    for (const i of f.instances) i.delayMs = 1500;
    const started = await startDeployment(a, {
      profileName: name,
      version: 2,
      strategy: 'CANARY',
      canary: { phases: [0.5, 1.0], bakeSeconds: 1 },
      ackTimeoutSeconds: 8,
    });
    const moving = await pollUntil(() => read(started.id), (x) => x.status !== 'PENDING', { timeoutMs: 10_000, what: 'the canary to start' });
    expect(moving.status).toBe('IN_PROGRESS');
    expect(ok(await pause(started.id)).pauseDeployment?.status).toBe('PAUSED');
    const first = f.byId(moving.targets.find((t) => t.phase === 1)!.instanceId);
    const second = f.byId(moving.targets.find((t) => t.phase === 2)!.instanceId);
    await pollUntil(async () => first.appliedVersion(), (v) => v === 2, { timeoutMs: 10_000, what: 'the phase 1 instance to ack' });
    await new Promise((r) => setTimeout(r, 1500));
    const paused = await read(started.id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.targets.find((t) => t.instanceId === first.id)?.state).toBe('APPLIED');
    expect(paused.events.map((e) => e.type)).not.toContain('PHASE_COMPLETED');
    expect(versionsOf(second)).not.toContain(2);
    for (const i of f.instances) i.delayMs = 0;
    ok(await resume(started.id));
    const done = await waitForDeployment(a, started.id, 20_000);
    expect(done.status).toBe('COMPLETED');
    const types = done.events.map((e) => e.type);
    expect(types.indexOf('PHASE_COMPLETED')).toBeGreaterThan(types.indexOf('RESUMED'));
    expect(f.instances.every((i) => i.appliedVersion() === 2)).toBe(true);
  }, 60_000);
});
