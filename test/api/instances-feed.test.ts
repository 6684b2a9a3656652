import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish } from '../support/api.js';
import {
  type ConfigUpdateMsg,
  deployAndWait,
  HEARTBEAT,
  noAck,
  CONFIG_UPDATES,
  registerInstance,
  REPORT_APPLIED,
  type SimInstance,
  startInstance,
} from '../support/fleet.js';
import { DEREGISTER, freshService, instanceCalls, LIST } from '../support/instances.js';
import { pollUntil } from '../support/wait.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs, type TestWsClient } from '../support/ws-client.js';

/** What an instance is sent and what it acks. */
describe('instances API', () => {
  let server: TestServer;
  let a: Api;
  const sims: SimInstance[] = [];

  const { list, read, register } = instanceCalls(() => ({ a, server }));

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(sims.map((s) => s.close()));
    await server?.stop();
  });

  describe('configUpdates subscription', () => {
    const sockets: TestWsClient[] = [];
    const open = (token: string | null) => {
      const ws = connectWs(server.url, token);
      sockets.push(ws);
      return ws;
    };
    afterAll(async () => {
      await Promise.allSettled(sockets.map((s) => s.dispose()));
    });

    it('answers NOT_FOUND for a deregistered instance', async () => {
      const inst = await register(freshService());
      ok(await a.gql(DEREGISTER, { id: inst.id }, inst.token));
      const first = await open(inst.token).subscribe(CONFIG_UPDATES, { id: inst.id }).next();
      expect(first.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });

  });

  describe('reportConfigApplied', () => {
    const service = 'acks-svc';
    const profileName = 'acks-cfg';
    let first: SimInstance;

    beforeAll(async () => {
      await createProfile(a, profileName, { service, environment: Environment.STAGING });
      await publish(a, profileName, { level: 1 });
      await publish(a, profileName, { level: 2 });
      first = await startInstance(a, { service });
      sims.push(first);
      const d = await deployAndWait(a, profileName, 1);
      expect(d.status).toBe('COMPLETED');
    });

    /** A new instance that subscribed and got the active version (v1), and does not ack by itself. */
    async function subscribedInstance(): Promise<{ sim: SimInstance; initial: ConfigUpdateMsg }> {
      const sim = await startInstance(a, { service, behavior: noAck });
      sims.push(sim);
      const initial = await sim.waitForUpdate((u) => u.profileName === profileName);
      return { sim, initial };
    }
    const ackVars = (id: string, extra: Record<string, unknown> = {}) => ({ id, p: profileName, v: 1, ok: true, ms: 42, err: null, ...extra });

    it('records the active version sent on subscribe, with its reload time, once acked', async () => {
      const { sim, initial } = await subscribedInstance();
      expect(initial).toMatchObject({ profileName, version: 1, data: { level: 1 }, deploymentId: null });
      expect(initial.hash).toMatch(/^[0-9a-f]{64}$/);
      expect((await read(sim.id))!.appliedVersions).toEqual([]);

      const res = await a.gql<{ reportConfigApplied: boolean }>(REPORT_APPLIED, ackVars(sim.id, { ms: 42.5 }), sim.token);
      expect(ok(res).reportConfigApplied).toBe(true);
      const applied = (await read(sim.id))!.appliedVersions;
      expect(applied).toEqual([{ profileName, version: 1, reloadMs: 42.5, appliedAt: expect.any(String) }]);
      expect(new Date(applied[0]!.appliedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);

      // The list fills appliedVersions too.
      const listed = (await list({ service })).find((i) => i.id === sim.id);
      expect(listed?.appliedVersions).toEqual(applied);
    });

    it('fills appliedVersions of the instance a deployment updated', async () => {
      await pollUntil(() => read(first.id), (i) => (i?.appliedVersions.length ?? 0) > 0, { what: 'the first ack to be recorded' });
      const listed = (await list({ service })).find((i) => i.id === first.id);
      expect(listed?.appliedVersions).toEqual([{ profileName, version: 1, reloadMs: 7.5, appliedAt: expect.any(String) }]);
    });

    it('refuses an ack of a version never sent to the instance (BAD_USER_INPUT) and records nothing', async () => {
      const { sim } = await subscribedInstance();
      const res = await a.gql(REPORT_APPLIED, ackVars(sim.id, { v: 2 }), sim.token);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/never sent/);
      expect((await read(sim.id))!.appliedVersions).toEqual([]);
    });

    it('refuses an ack from an instance that was sent nothing (BAD_USER_INPUT)', async () => {
      const inst = await register(service);
      const res = await a.gql(REPORT_APPLIED, ackVars(inst.id), inst.token);
      expectRefused(res, 'BAD_USER_INPUT');
      expect((await read(inst.id))!.appliedVersions).toEqual([]);
    });

    it('refuses a negative reloadMs (BAD_USER_INPUT) and records nothing', async () => {
      const { sim } = await subscribedInstance();
      const res = await a.gql(REPORT_APPLIED, ackVars(sim.id, { ms: -3 }), sim.token);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe('reloadMs');
      expect((await read(sim.id))!.appliedVersions).toEqual([]);
    });

    it('refuses version 0 (BAD_USER_INPUT) and records nothing', async () => {
      const { sim } = await subscribedInstance();
      const res = await a.gql(REPORT_APPLIED, ackVars(sim.id, { v: 0 }), sim.token);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe('version');
      expect((await read(sim.id))!.appliedVersions).toEqual([]);
    });

    it('refuses an unknown profile (BAD_USER_INPUT) and records nothing', async () => {
      const { sim } = await subscribedInstance();
      const res = await a.gql(REPORT_APPLIED, ackVars(sim.id, { p: 'no-such-profile' }), sim.token);
      expectRefused(res, 'BAD_USER_INPUT');
      expect((await read(sim.id))!.appliedVersions).toEqual([]);
    });

    it('accepts a failed apply but does not record it as applied', async () => {
      const { sim } = await subscribedInstance();
      const res = await a.gql<{ reportConfigApplied: boolean }>(
        REPORT_APPLIED,
        ackVars(sim.id, { ok: false, ms: null, err: 'could not parse' }),
        sim.token,
      );
      expect(ok(res).reportConfigApplied).toBe(true);
      expect((await read(sim.id))!.appliedVersions).toEqual([]);
    });
  });
});

describe('instances API with a fast reaper', () => {
  let server: TestServer;
  let a: Api;

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_HEARTBEAT_INTERVAL_MS: '200' });
    a = api(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lists a silent instance under status STALE and a heartbeat brings it back', async () => {
    const service = 'reaped';
    const live = await registerInstance(a, service);
    const silent = await registerInstance(a, service);
    const list = async (status: string) =>
      ok(await a.gql<{ instances: Array<{ id: string; status: string }> }>(LIST, { service, status })).instances.map((i) => i.id);

    const beat = setInterval(() => void a.gql(HEARTBEAT, { id: live.id, m: null }, live.token).catch(() => undefined), 100);
    try {
      const stale = await pollUntil(() => list('STALE'), (ids) => ids.length > 0, { timeoutMs: 5000, what: 'an instance to go STALE' });
      expect(stale).toEqual([silent.id]);
      expect(await list('HEALTHY')).toEqual([live.id]);
      // STALE instances still answer to their id and can come back.
      const back = ok(await a.gql<{ heartbeat: { status: string } }>(HEARTBEAT, { id: silent.id, m: null }, silent.token)).heartbeat;
      expect(back.status).toBe('HEALTHY');
      expect(await list('STALE')).not.toContain(silent.id);
    } finally {
      clearInterval(beat);
    }
  });
});
