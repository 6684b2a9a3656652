import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish, signedToken } from '../support/api.js';
import { CONFIG_UPDATES, deployAndWait, HEARTBEAT, registerInstance, REPORT_APPLIED, startInstance, TARGET_FIELDS, untilConnected } from '../support/fleet.js';
import { deleteKeysUnder, ownRedisPrefix } from '../support/redis-keys.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { connectWs } from '../support/ws-client.js';

/**
 * Issue 14 point 4: a valid INSTANCE token restores the registration the
 * registry lost under the same id — Redis emptied (its keys under this file's
 * own prefix deleted), or the in-process registry of a restarted server.
 */

const GET = 'query($id: ID!) { instance(id: $id) { id service environment host color metadata status metrics { errorRate } } }';
const REFRESH = 'mutation($i: ID!) { refreshInstanceToken(instanceId: $i) }';
const TARGETS = `query($id: ID!) { deployment(id: $id) { targets { ${TARGET_FIELDS} } } }`;
const ENV = Environment.STAGING;

let counter = 0;
const freshService = () => `ident-${++counter}-${Math.random().toString(36).slice(2, 7)}`;

/** A profile of `service` with version 1 active (as a completed deployment leaves it), sent to its instances on subscribe. */
async function profileOnV1(a: Api, service: string): Promise<void> {
  await createProfile(a, service, { service, environment: ENV });
  await publish(a, service, { n: 1 });
  await a.server.db.query('update config_profile set active_version = 1 where name = $1', [service]);
}

describe('a registration the registry lost (Redis emptied) comes back from the instance token', () => {
  const prefix = ownRedisPrefix('identity');
  let server: TestServer;
  let a: Api;
  const closers: Array<() => Promise<unknown>> = [];

  const read = async (id: string) => ok(await a.gql<{ instance: Record<string, unknown> | null }>(GET, { id })).instance;
  const lose = () => deleteKeysUnder(inject('redisUrl'), prefix);
  const beat = (id: string, token: string | null, m: Record<string, unknown> | null = null) => a.gql<{ heartbeat: { id: string; status: string } }>(HEARTBEAT, { id, m }, token);

  beforeAll(async () => {
    server = await startTestServer({ REDIS_URL: inject('redisUrl'), HOTSWAP_REDIS_PREFIX: prefix });
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(closers.map((c) => c()));
    await server?.stop();
    await lose();
  });

  describe('heartbeat', () => {
    it('restores it under the same id, service, environment, host and color, with the heartbeat metrics; metadata is lost', async () => {
      const service = freshService();
      const inst = await registerInstance(a, service, ENV, 'orders-7f9c', 'BLUE');
      expect(await lose()).toBeGreaterThan(0);
      expect(await read(inst.id)).toBeNull();

      expect(ok(await beat(inst.id, inst.token, { errorRate: 0.02 })).heartbeat).toMatchObject({ id: inst.id, status: 'HEALTHY' });
      expect(await read(inst.id)).toEqual({
        id: inst.id, service, environment: ENV, host: 'orders-7f9c', color: 'BLUE', metadata: null, status: 'HEALTHY', metrics: { errorRate: 0.02 },
      });
    });

    it('makes it a deployment target again: a DIRECT deployment after the loss pushes to it and COMPLETES', async () => {
      const service = freshService();
      await createProfile(a, service, { service, environment: ENV });
      await publish(a, service, { n: 1 });
      const sim = await startInstance(a, { service });
      closers.push(() => sim.close());
      await lose();
      ok(await sim.heartbeat());
      // Its replica writes its subscriptions again on its next presence keep (every 2.5 s): a target again.
      await untilConnected(a, sim.id, sim.token, 6000);

      const d = await deployAndWait(a, service, 1);
      expect(d.status).toBe('COMPLETED');
      const targets = ok(await a.gql<{ deployment: { targets: Array<{ instanceId: string; state: string }> } }>(TARGETS, { id: d.id })).deployment.targets;
      expect(targets.map((t) => t.instanceId)).toEqual([sim.id]);
      expect(sim.appliedVersion()).toBe(1);
    });

    it('is not restored for a caller without a token (UNAUTHENTICATED), another instance (FORBIDDEN), a registration token or a DEVELOPER (FORBIDDEN)', async () => {
      const service = freshService();
      const inst = await registerInstance(a, service);
      const other = await registerInstance(a, service);
      await lose();
      expectRefused(await beat(inst.id, null), 'UNAUTHENTICATED');
      expectRefused(await beat(inst.id, other.token), 'FORBIDDEN');
      expectRefused(await beat(inst.id, await server.token(Role.INSTANCE, { service, environment: ENV })), 'FORBIDDEN');
      expectRefused(await beat(inst.id, await a.token(Role.DEVELOPER)), 'FORBIDDEN');
      expect(await read(inst.id)).toBeNull();
      // The other instance's own token restores the other one only.
      ok(await beat(other.id, other.token));
      expect([await read(inst.id), (await read(other.id))?.id]).toEqual([null, other.id]);
    });

    it('answers NOT_FOUND to an ADMIN, whose token names no instance to restore', async () => {
      const inst = await registerInstance(a, freshService());
      await lose();
      expectRefused(await beat(inst.id, server.adminToken), 'NOT_FOUND');
      expect(await read(inst.id)).toBeNull();
    });

    it('refuses bad metrics (BAD_USER_INPUT), an expired token (UNAUTHENTICATED) and an id that is no UUID (NOT_FOUND), restoring nothing', async () => {
      const service = freshService();
      const inst = await registerInstance(a, service);
      await lose();
      const res = await beat(inst.id, inst.token, { errorRate: 2 });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe('metrics.errorRate');
      const past = Math.floor(Date.now() / 1000) - 60;
      const expired = await signedToken({ sub: inst.id, role: 'INSTANCE', instanceId: inst.id, service, environment: ENV, iat: past - 60, exp: past });
      expectRefused(await beat(inst.id, expired), 'UNAUTHENTICATED');
      expect(await read(inst.id)).toBeNull();
      const odd = await server.token(Role.INSTANCE, { sub: 'odd', instanceId: 'not-a-uuid', service, environment: ENV });
      expectRefused(await beat('not-a-uuid', odd), 'NOT_FOUND');
    });
  });

  describe('configUpdates', () => {
    it('restores it on subscribe and sends its config, under the same id', async () => {
      const service = freshService();
      await profileOnV1(a, service);
      const inst = await registerInstance(a, service, ENV, 'h-sub', 'GREEN');
      await lose();
      const ws = connectWs(server.url, inst.token);
      closers.push(() => ws.dispose());
      const first = await ws.subscribe<{ configUpdates: { version: number } }>(CONFIG_UPDATES, { id: inst.id }).next();
      expect(first.data?.configUpdates.version, JSON.stringify(first)).toBe(1);
      expect(await read(inst.id)).toMatchObject({ id: inst.id, service, host: 'h-sub', color: 'GREEN', status: 'HEALTHY' });
    });

    it("is refused for another instance's id (FORBIDDEN) and restores nothing", async () => {
      const service = freshService();
      const inst = await registerInstance(a, service);
      const other = await registerInstance(a, service);
      await lose();
      const ws = connectWs(server.url, other.token);
      closers.push(() => ws.dispose());
      const refused = await ws.subscribe(CONFIG_UPDATES, { id: inst.id }).next();
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const admin = connectWs(server.url, server.adminToken);
      closers.push(() => admin.dispose());
      const missing = await admin.subscribe(CONFIG_UPDATES, { id: inst.id }).next();
      expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(await read(inst.id)).toBeNull();
      expect(await read(other.id)).toBeNull();
    });
  });

  describe('reportConfigApplied and refreshInstanceToken', () => {
    it('an accepted ack restores it', async () => {
      const service = freshService();
      await profileOnV1(a, service);
      const sim = await startInstance(a, { service, behavior: () => 'ignore', waitForInitial: true });
      closers.push(() => sim.close());
      await lose();
      const ack = (token: string | null, v = 1) => a.gql(REPORT_APPLIED, { id: sim.id, p: service, v, ok: true, ms: 2, err: null }, token);
      expectRefused(await ack(null), 'UNAUTHENTICATED');
      expectRefused(await ack(await server.token(Role.INSTANCE, { service, environment: ENV, instanceId: randomUUID() })), 'FORBIDDEN');
      expectRefused(await ack(sim.token, 0), 'BAD_USER_INPUT');
      expect(await read(sim.id)).toBeNull();
      expect(ok(await ack(sim.token))).toEqual({ reportConfigApplied: true });
      expect(await pollUntil(() => read(sim.id), (r) => r !== null, { timeoutMs: 5000, intervalMs: 20, what: 'the restore' })).toMatchObject({ service });
    });

    it('refreshInstanceToken restores it and the new token carries host and color; refused to others', async () => {
      const service = freshService();
      const inst = await registerInstance(a, service, ENV, 'h-refresh', 'GREEN');
      const other = await registerInstance(a, service);
      await lose();
      expectRefused(await a.gql(REFRESH, { i: inst.id }, other.token), 'FORBIDDEN');
      expectRefused(await a.gql(REFRESH, { i: inst.id }, null), 'UNAUTHENTICATED');
      expect(await read(inst.id)).toBeNull();
      const token = ok(await a.gql<{ refreshInstanceToken: string }>(REFRESH, { i: inst.id }, inst.token)).refreshInstanceToken;
      expect(decodeJwt(token)).toMatchObject({ instanceId: inst.id, service, environment: ENV, host: 'h-refresh', color: 'GREEN' });
      expect(await read(inst.id)).toMatchObject({ id: inst.id, host: 'h-refresh', color: 'GREEN' });
    });
  });
});

describe('the in-process registry of a restarted server (the embedded default)', () => {
  let server: TestServer;
  let a: Api;
  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('after a restart, a heartbeat and a subscription restore their instances under the same ids; a deregistered one stays gone', async () => {
    const service = freshService();
    await profileOnV1(a, service);
    const beats = await registerInstance(a, service, ENV, 'h-1', 'BLUE');
    const subscribes = await registerInstance(a, service, ENV, 'h-2');
    const left = await registerInstance(a, service, ENV, 'h-3');
    ok(await a.gql('mutation($id: ID!) { deregisterInstance(id: $id) }', { id: left.id }, left.token));

    await server.restart();
    expect(ok(await a.gql<{ instances: unknown[] }>('query($s: String) { instances(service: $s) { id } }', { s: service })).instances).toEqual([]);

    expect(ok(await a.gql<{ heartbeat: { id: string } }>(HEARTBEAT, { id: beats.id, m: null }, beats.token)).heartbeat.id).toBe(beats.id);
    const ws = connectWs(server.url, subscribes.token);
    try {
      const first = await ws.subscribe<{ configUpdates: { version: number } }>(CONFIG_UPDATES, { id: subscribes.id }).next();
      expect(first.data?.configUpdates.version, JSON.stringify(first)).toBe(1);
    } finally {
      await ws.dispose();
    }
    expectRefused(await a.gql(HEARTBEAT, { id: left.id, m: null }, left.token), 'NOT_FOUND');
    const listed = ok(await a.gql<{ instances: Array<{ id: string; host: string; color: string | null }> }>(
      'query($s: String) { instances(service: $s) { id host color } }',
      { s: service },
    )).instances;
    expect(listed.sort((x, y) => x.host.localeCompare(y.host))).toEqual([
      { id: beats.id, host: 'h-1', color: 'BLUE' },
      { id: subscribes.id, host: 'h-2', color: null },
    ]);
  });
});
