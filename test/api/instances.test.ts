import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish } from '../support/api.js';
import {
  type ConfigUpdateMsg,
  deployAndWait,
  HEARTBEAT,
  noAck,
  CONFIG_UPDATES,
  registerInstance,
  REGISTER,
  REPORT_APPLIED,
  type SimInstance,
  startInstance,
} from '../support/fleet.js';
import { pollUntil } from '../support/wait.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { connectWs, type TestWsClient } from '../support/ws-client.js';

const INSTANCE_FIELDS = `id service environment host color metadata status lastHeartbeatAt
  metrics { errorRate latencyP99Ms requestCount custom }
  appliedVersions { profileName version reloadMs appliedAt }`;
const GET = `query($id: ID!) { instance(id: $id) { ${INSTANCE_FIELDS} } }`;
const LIST = `query($service: String, $environment: Environment, $status: InstanceStatus) {
  instances(service: $service, environment: $environment, status: $status) { ${INSTANCE_FIELDS} }
}`;
const DEREGISTER = `mutation($id: ID!) { deregisterInstance(id: $id) }`;
const REGISTER_FULL = `mutation($input: RegisterInstanceInput!) {
  registerInstance(input: $input) { token instance { ${INSTANCE_FIELDS} } }
}`;

interface InstanceShape {
  id: string;
  service: string;
  environment: string;
  host: string;
  color: string | null;
  metadata: unknown;
  status: string;
  lastHeartbeatAt: string | null;
  metrics: { errorRate: number | null; latencyP99Ms: number | null; requestCount: number | null; custom: unknown } | null;
  appliedVersions: Array<{ profileName: string; version: number; reloadMs: number | null; appliedAt: string }>;
}

/** The claims of a JWT, decoded without verification. */
function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1];
  if (payload === undefined) throw new Error(`not a JWT: ${jwt}`);
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

let serviceCounter = 0;
/** A service name no other test uses, so counts are exact. */
const freshService = (prefix = 'svc') => `${prefix}-${++serviceCounter}-${Math.random().toString(36).slice(2, 7)}`;

describe('instances API', () => {
  let server: TestServer;
  let a: Api;
  const sims: SimInstance[] = [];

  const regToken = (service: string, environment: Environment = Environment.STAGING) =>
    server.token(Role.INSTANCE, { sub: `registrar-${service}`, service, environment });
  const list = async (filter: { service?: string; environment?: string; status?: string } = {}, token?: string) =>
    ok(await a.gql<{ instances: InstanceShape[] }>(LIST, filter, token)).instances;
  const read = async (id: string) => ok(await a.gql<{ instance: InstanceShape | null }>(GET, { id })).instance;
  const register = async (service: string, environment: Environment = Environment.STAGING, host = 'host-a') =>
    registerInstance(a, service, environment, host);

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

    it('refuses a registration token for another service (FORBIDDEN) and creates nothing', async () => {
      const service = freshService();
      const other = freshService();
      const res = await a.gql(REGISTER, { input: { service: other, environment: 'STAGING', host: 'h' } }, await regToken(service));
      expectRefused(res, 'FORBIDDEN');
      expect(await list({ service: other })).toEqual([]);
      expect(await list({ service })).toEqual([]);
    });

    it('refuses a registration token for another environment (FORBIDDEN) and creates nothing', async () => {
      const service = freshService();
      const res = await a.gql(
        REGISTER,
        { input: { service, environment: 'PRODUCTION', host: 'h' } },
        await regToken(service, Environment.STAGING),
      );
      expectRefused(res, 'FORBIDDEN');
      expect(await list({ service })).toEqual([]);
    });

    it.each([Role.DEVELOPER, Role.OPERATOR])('refuses role %s (FORBIDDEN) and creates nothing', async (role) => {
      const service = freshService();
      const res = await a.gql(REGISTER, { input: { service, environment: 'STAGING', host: 'h' } }, await a.token(role));
      expectRefused(res, 'FORBIDDEN');
      expect(res.errors?.[0]?.message).toContain(role);
      expect(await list({ service })).toEqual([]);
    });

    it("refuses an instance's own token, which is not a registration token (FORBIDDEN)", async () => {
      const service = freshService();
      const existing = await register(service);
      const res = await a.gql(REGISTER, { input: { service, environment: 'STAGING', host: 'h2' } }, existing.token);
      expectRefused(res, 'FORBIDDEN');
      expect((await list({ service })).map((i) => i.id)).toEqual([existing.id]);
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

    it('refuses a caller without a token (UNAUTHENTICATED) and creates nothing', async () => {
      const service = freshService();
      const res = await a.gql(REGISTER, { input: { service, environment: 'STAGING', host: 'h' } }, null);
      expectRefused(res, 'UNAUTHENTICATED');
      expect(await list({ service })).toEqual([]);
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

    it("refuses another instance's token (FORBIDDEN) and leaves the target untouched", async () => {
      const service = freshService();
      const target = await register(service);
      const other = await register(service);
      const stamped = (await read(target.id))!.lastHeartbeatAt;
      const res = await a.gql(HEARTBEAT, { id: target.id, m: { errorRate: 0.9 } }, other.token);
      expectRefused(res, 'FORBIDDEN');
      const after = (await read(target.id))!;
      expect(after.metrics).toBeNull();
      expect(after.lastHeartbeatAt).toBe(stamped);
    });

    it('refuses a registration token (FORBIDDEN)', async () => {
      const service = freshService();
      const inst = await register(service);
      const res = await a.gql(HEARTBEAT, { id: inst.id, m: { errorRate: 0.1 } }, await regToken(service));
      expectRefused(res, 'FORBIDDEN');
      expect((await read(inst.id))!.metrics).toBeNull();
    });

    it.each([Role.DEVELOPER, Role.OPERATOR])('refuses role %s (FORBIDDEN)', async (role) => {
      const inst = await register(freshService());
      const res = await a.gql(HEARTBEAT, { id: inst.id, m: { errorRate: 0.1 } }, await a.token(role));
      expectRefused(res, 'FORBIDDEN');
      expect((await read(inst.id))!.metrics).toBeNull();
    });

    it('refuses a caller without a token (UNAUTHENTICATED)', async () => {
      const inst = await register(freshService());
      const res = await a.gql(HEARTBEAT, { id: inst.id, m: { errorRate: 0.1 } }, null);
      expectRefused(res, 'UNAUTHENTICATED');
      expect((await read(inst.id))!.metrics).toBeNull();
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

    it('refuses DEVELOPER (FORBIDDEN) and the instance stays', async () => {
      const inst = await register(freshService());
      const res = await a.gql(DEREGISTER, { id: inst.id }, await a.token(Role.DEVELOPER));
      expectRefused(res, 'FORBIDDEN');
      expect(await read(inst.id)).not.toBeNull();
    });

    it('refuses another instance (FORBIDDEN) and the instance stays', async () => {
      const service = freshService();
      const inst = await register(service);
      const other = await register(service);
      const res = await a.gql(DEREGISTER, { id: inst.id }, other.token);
      expectRefused(res, 'FORBIDDEN');
      expect(await read(inst.id)).not.toBeNull();
      expect(await read(other.id)).not.toBeNull();
    });

    it('refuses a caller without a token (UNAUTHENTICATED) and the instance stays', async () => {
      const inst = await register(freshService());
      expectRefused(await a.gql(DEREGISTER, { id: inst.id }, null), 'UNAUTHENTICATED');
      expect(await read(inst.id)).not.toBeNull();
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

    it('refuses an INSTANCE token (FORBIDDEN)', async () => {
      const service = freshService();
      const inst = await register(service);
      expectRefused(await a.gql(LIST, { service }, inst.token), 'FORBIDDEN');
    });

    it('refuses a caller without a token (UNAUTHENTICATED)', async () => {
      expectRefused(await a.gql(LIST, {}, null), 'UNAUTHENTICATED');
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

    it('refuses a caller without a token (UNAUTHENTICATED)', async () => {
      const inst = await register(freshService());
      expectRefused(await a.gql(GET, { id: inst.id }, null), 'UNAUTHENTICATED');
    });
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

    it("refuses another instance's feed (FORBIDDEN) and keeps the connection open", async () => {
      const service = freshService();
      const me = await register(service, Environment.STAGING, 'me');
      const other = await register(service);
      const ws = open(me.token);
      const first = await ws.subscribe(CONFIG_UPDATES, { id: other.id }).next();
      expect(first.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const self = await ws.request<{ instance: { id: string } }>(`query($id: ID!) { instance(id: $id) { id } }`, { id: me.id });
      expect(self.data?.instance.id).toBe(me.id);
    });

    it('refuses a registration token (FORBIDDEN)', async () => {
      const service = freshService();
      const inst = await register(service);
      const first = await open(await regToken(service)).subscribe(CONFIG_UPDATES, { id: inst.id }).next();
      expect(first.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });

    it('answers NOT_FOUND for a deregistered instance', async () => {
      const inst = await register(freshService());
      ok(await a.gql(DEREGISTER, { id: inst.id }, inst.token));
      const first = await open(inst.token).subscribe(CONFIG_UPDATES, { id: inst.id }).next();
      expect(first.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });

    it('closes a connection without a token with 4403', async () => {
      const ws = open(null);
      const sub = ws.subscribe(CONFIG_UPDATES, { id: '00000000-0000-4000-8000-000000000001' });
      expect(await ws.closed).toBe(4403);
      sub.close();
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

    it("refuses another instance's token (FORBIDDEN) and records nothing", async () => {
      const { sim } = await subscribedInstance();
      const other = await register(service);
      const res = await a.gql(REPORT_APPLIED, ackVars(sim.id), other.token);
      expectRefused(res, 'FORBIDDEN');
      expect((await read(sim.id))!.appliedVersions).toEqual([]);
    });

    it.each([Role.DEVELOPER, Role.OPERATOR])('refuses role %s (FORBIDDEN) and records nothing', async (role) => {
      const { sim } = await subscribedInstance();
      const res = await a.gql(REPORT_APPLIED, ackVars(sim.id), await a.token(role));
      expectRefused(res, 'FORBIDDEN');
      expect((await read(sim.id))!.appliedVersions).toEqual([]);
    });

    it('refuses a caller without a token (UNAUTHENTICATED) and records nothing', async () => {
      const { sim } = await subscribedInstance();
      expectRefused(await a.gql(REPORT_APPLIED, ackVars(sim.id), null), 'UNAUTHENTICATED');
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
