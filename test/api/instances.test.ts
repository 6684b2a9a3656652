import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import { HEARTBEAT, REGISTER, type SimInstance } from '../support/fleet.js';
import { claimsOf, DEREGISTER, freshService, GET, type InstanceShape, instanceCalls, LIST, REGISTER_FULL } from '../support/instances.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('instances API', () => {
  let server: TestServer;
  let a: Api;
  const sims: SimInstance[] = [];

  const { regToken, list, read, register } = instanceCalls(() => ({ a, server }));

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(sims.map((s) => s.close()));
    await server?.stop();
  });

  describe('registerInstance', () => {
    it('registers with a registration token and answers the instance with its own INSTANCE token', async () => {
      const service = freshService();
      const input = { service, environment: 'STAGING', host: 'orders-7.internal:8080', color: 'BLUE', metadata: { zone: 'eu-1', cpu: 4 } };
      const res = await a.gql<{ registerInstance: { token: string; instance: InstanceShape } }>(REGISTER_FULL, { input }, await regToken(service));
      const { token, instance } = ok(res).registerInstance;
      expect(instance).toMatchObject({ ...input, status: 'HEALTHY', metrics: null, appliedVersions: [] });
      expect(instance.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(instance.lastHeartbeatAt!).getTime()).toBeGreaterThan(Date.now() - 60_000);

      const claims = claimsOf(token);
      expect(claims).toMatchObject({ role: 'INSTANCE', instanceId: instance.id, service, environment: 'STAGING', sub: instance.id });
      // INSTANCE tokens live 7 days by default.
      expect(Number(claims.exp) - Number(claims.iat)).toBe(7 * 86_400);

      // It is persisted, and the token it got works as that instance.
      expect(await read(instance.id)).toMatchObject({ ...input, id: instance.id });
      const hb = await a.gql<{ heartbeat: { id: string } }>(HEARTBEAT, { id: instance.id, m: null }, token);
      expect(ok(hb).heartbeat.id).toBe(instance.id);
    });

    it('creates a new instance with a new id on every call', async () => {
      const service = freshService();
      const first = await register(service, Environment.STAGING, 'same-host');
      const second = await register(service, Environment.STAGING, 'same-host');
      expect(first.id).not.toBe(second.id);
      expect(claimsOf(first.token).instanceId).toBe(first.id);
      expect(claimsOf(second.token).instanceId).toBe(second.id);
      const listed = await list({ service });
      expect(listed.map((i) => i.id).sort()).toEqual([first.id, second.id].sort());
    });

    it('lets ADMIN register an instance of any service', async () => {
      const service = freshService();
      const res = await a.gql<{ registerInstance: { token: string; instance: InstanceShape } }>(REGISTER_FULL, {
        input: { service, environment: 'PRODUCTION', host: 'admin-made' },
      });
      const { instance, token } = ok(res).registerInstance;
      expect(instance).toMatchObject({ service, environment: 'PRODUCTION', host: 'admin-made', color: null, metadata: null });
      expect(claimsOf(token)).toMatchObject({ role: 'INSTANCE', instanceId: instance.id, service, environment: 'PRODUCTION' });
      expect((await list({ service })).map((i) => i.id)).toEqual([instance.id]);
    });

    it.each([
      ['with spaces', 'my host'],
      ['empty', ''],
      ['300 characters', 'h'.repeat(300)],
      ['with a newline', 'host\nx'],
    ])('refuses a host %s (BAD_USER_INPUT) and creates nothing', async (_label, host) => {
      const service = freshService();
      const res = await a.gql(REGISTER, { input: { service, environment: 'STAGING', host } }, await regToken(service));
      expectRefused(res, 'BAD_USER_INPUT');
      // Too long is refused where the argument enters (input.host); the other shapes by the domain's rule (host).
      expect(res.errors?.[0]?.extensions?.field).toMatch(/^(input\.)?host$/);
      expect(await list({ service })).toEqual([]);
    });

    it('refuses metadata that is an array (BAD_USER_INPUT) and creates nothing', async () => {
      const service = freshService();
      const res = await a.gql(REGISTER, { input: { service, environment: 'STAGING', host: 'h', metadata: [1, 2] } }, await regToken(service));
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/metadata/);
      expect(await list({ service })).toEqual([]);
    });

    it('refuses metadata over 16 KiB (BAD_USER_INPUT) and creates nothing', async () => {
      const service = freshService();
      const metadata = { blob: 'x'.repeat(17 * 1024) };
      const res = await a.gql(REGISTER, { input: { service, environment: 'STAGING', host: 'h', metadata } }, await regToken(service));
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe('metadata');
      expect(await list({ service })).toEqual([]);
    });

    it('refuses an unknown environment (BAD_USER_INPUT) and creates nothing', async () => {
      const service = freshService();
      const before = (await list()).length;
      const res = await a.gql(REGISTER, { input: { service, environment: 'MARS', host: 'h' } }, await regToken(service));
      expectRefused(res, 'BAD_USER_INPUT');
      expect(await list({ service })).toEqual([]);
      expect((await list()).length).toBe(before);
    });

    it('refuses a service name that is not a slug (BAD_USER_INPUT) and creates nothing', async () => {
      const before = (await list()).length;
      const res = await a.gql(REGISTER, { input: { service: 'Not A Slug', environment: 'STAGING', host: 'h' } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect((await list()).length).toBe(before);
    });
  });

  describe('heartbeat', () => {
    it('stores the metrics, returns them, and moves lastHeartbeatAt', async () => {
      const service = freshService();
      const inst = await register(service);
      const before = (await read(inst.id))!;
      const metrics = { errorRate: 0.02, latencyP99Ms: 120.5, requestCount: 1000, custom: { queueDepth: 3 } };
      const res = await a.gql<{ heartbeat: InstanceShape }>(HEARTBEAT, { id: inst.id, m: metrics }, inst.token);
      const hb = ok(res).heartbeat;
      expect(hb).toMatchObject({ id: inst.id, status: 'HEALTHY', metrics });
      expect(new Date(hb.lastHeartbeatAt!).getTime()).toBeGreaterThan(new Date(before.lastHeartbeatAt!).getTime());

      const after = (await read(inst.id))!;
      expect(after.metrics).toEqual(metrics);
      expect(after.lastHeartbeatAt).toBe(hb.lastHeartbeatAt);
    });

    it('without metrics keeps the last reported ones', async () => {
      const inst = await register(freshService());
      const metrics = { errorRate: 0.5, latencyP99Ms: 10, requestCount: 2, custom: null };
      ok(await a.gql(HEARTBEAT, { id: inst.id, m: metrics }, inst.token));
      const res = ok(await a.gql<{ heartbeat: InstanceShape }>(HEARTBEAT, { id: inst.id, m: null }, inst.token)).heartbeat;
      expect(res.metrics).toEqual(metrics);
    });

    it.each([
      ['errorRate 2', { errorRate: 2 }, 'metrics.errorRate'],
      ['a negative latency', { latencyP99Ms: -1 }, 'metrics.latencyP99Ms'],
      ['a negative requestCount', { requestCount: -5 }, 'metrics.requestCount'],
      ['a custom metric that is not a number', { custom: { queueDepth: 'deep' } }, 'metrics.custom'],
    ])('refuses %s (BAD_USER_INPUT) and stores nothing', async (_label, bad, field) => {
      const inst = await register(freshService());
      const good = { errorRate: 0.01, latencyP99Ms: 50, requestCount: 7, custom: { q: 1 } };
      ok(await a.gql(HEARTBEAT, { id: inst.id, m: good }, inst.token));
      const stamped = (await read(inst.id))!.lastHeartbeatAt;
      const res = await a.gql(HEARTBEAT, { id: inst.id, m: bad }, inst.token);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      const after = (await read(inst.id))!;
      expect(after.metrics).toEqual(good);
      expect(after.lastHeartbeatAt).toBe(stamped);
    });

    it('answers NOT_FOUND for an instance the registry does not know, to a caller whose token cannot restore it (ADMIN)', async () => {
      // An INSTANCE token of that very id would restore it (test/api/instance-identity.test.ts).
      const id = '00000000-0000-4000-8000-000000000001';
      const res = await a.gql(HEARTBEAT, { id, m: null });
      expectRefused(res, 'NOT_FOUND');
      expect(await read(id)).toBeNull();
    });
  });

  describe('deregisterInstance', () => {
    it('lets the instance deregister itself; then heartbeat is NOT_FOUND and instance(id) is null', async () => {
      const service = freshService();
      const inst = await register(service);
      const keep = await register(service);
      expect(ok(await a.gql<{ deregisterInstance: boolean }>(DEREGISTER, { id: inst.id }, inst.token)).deregisterInstance).toBe(true);
      expect(await read(inst.id)).toBeNull();
      expect((await list({ service })).map((i) => i.id)).toEqual([keep.id]);
      expectRefused(await a.gql(HEARTBEAT, { id: inst.id, m: null }, inst.token), 'NOT_FOUND');
      // Again: it is gone.
      expectRefused(await a.gql(DEREGISTER, { id: inst.id }, inst.token), 'NOT_FOUND');
    });

    it.each([Role.OPERATOR, Role.ADMIN])('lets %s deregister any instance', async (role) => {
      const service = freshService();
      const inst = await register(service);
      expect(ok(await a.gql<{ deregisterInstance: boolean }>(DEREGISTER, { id: inst.id }, await a.token(role))).deregisterInstance).toBe(true);
      expect(await read(inst.id)).toBeNull();
      expect(await list({ service })).toEqual([]);
      expectRefused(await a.gql(HEARTBEAT, { id: inst.id, m: null }, inst.token), 'NOT_FOUND');
    });

    it('answers NOT_FOUND for an unknown instance', async () => {
      const before = (await list()).length;
      const res = await a.gql(DEREGISTER, { id: '00000000-0000-4000-8000-00000000dead' });
      expectRefused(res, 'NOT_FOUND');
      expect((await list()).length).toBe(before);
    });
  });

  describe('instances', () => {
    it('filters by service and environment', async () => {
      const svcA = freshService('filt');
      const svcB = freshService('filt');
      const a1 = await register(svcA, Environment.STAGING);
      const a2 = await register(svcA, Environment.STAGING);
      const a3 = await register(svcA, Environment.PRODUCTION);
      const b1 = await register(svcB, Environment.STAGING);
      const ids = (xs: InstanceShape[]) => xs.map((i) => i.id).sort();
      expect(ids(await list({ service: svcA }))).toEqual([a1.id, a2.id, a3.id].sort());
      expect(ids(await list({ service: svcA, environment: 'STAGING' }))).toEqual([a1.id, a2.id].sort());
      expect(ids(await list({ service: svcA, environment: 'PRODUCTION' }))).toEqual([a3.id]);
      expect(ids(await list({ service: svcB }))).toEqual([b1.id]);
      expect(await list({ service: svcB, environment: 'DEVELOPMENT' })).toEqual([]);
      const staging = ids(await list({ environment: 'STAGING' }));
      expect(staging).toEqual(expect.arrayContaining([a1.id, a2.id, b1.id]));
      expect(staging).not.toContain(a3.id);
    });

    it('filters by status', async () => {
      const service = freshService();
      const inst = await register(service);
      expect((await list({ service, status: 'HEALTHY' })).map((i) => i.id)).toEqual([inst.id]);
      expect(await list({ service, status: 'STALE' })).toEqual([]);
      expect(await list({ service, status: 'DEGRADED' })).toEqual([]);
    });

    it.each([Role.DEVELOPER, Role.OPERATOR])('may be read by %s', async (role) => {
      const service = freshService();
      const inst = await register(service);
      expect((await list({ service }, await a.token(role))).map((i) => i.id)).toEqual([inst.id]);
    });

    it('refuses an unknown status (BAD_USER_INPUT)', async () => {
      expectRefused(await a.gql(LIST, { status: 'ASLEEP' }), 'BAD_USER_INPUT');
    });
  });

  describe('instance', () => {
    it('lets an INSTANCE token read itself but not another instance', async () => {
      const service = freshService();
      const me = await register(service, Environment.STAGING, 'me-host');
      const other = await register(service);
      const mine = ok(await a.gql<{ instance: InstanceShape }>(GET, { id: me.id }, me.token)).instance;
      expect(mine).toMatchObject({ id: me.id, host: 'me-host', service });
      const res = await a.gql(GET, { id: other.id }, me.token);
      expectRefused(res, 'FORBIDDEN');
      expect(JSON.stringify(res.data ?? null)).not.toContain(other.id);
    });

    it('answers null for an unknown id', async () => {
      expect(await read('00000000-0000-4000-8000-0000000000aa')).toBeNull();
    });

  });
});
