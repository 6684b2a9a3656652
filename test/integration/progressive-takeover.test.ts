import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { Environment, Role } from '../../src/domain/enums.js';
import type { HealthSnapshot } from '../../src/domain/health.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type ServiceProcess, spawnService } from '../support/process.js';
import { HEALTHY } from '../support/fleet.js';
import { pollUntil } from '../support/wait.js';
import { connectWs, type TestWsClient } from '../support/ws-client.js';

/**
 * Durability of progressive deployments with real HotSwap processes on one
 * PostgreSQL and one Redis: a replica killed with SIGKILL during a canary bake,
 * and a paused canary across a server restart.
 */

const SECRET = 'takeover-secret-0123456789abcdef0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  process: ServiceProcess;
  url: string;
  pid: number;
  dead: boolean;
}

interface Update {
  profileName: string;
  version: number;
  deploymentId: string | null;
}

interface DeploymentRow {
  status: string;
  phase: number;
  strategy_state: { stage: string; observeUntil: string | null; baseline: HealthSnapshot | null };
  lease_owner: string | null;
}

/** A simulated instance: subscribes on any number of servers, acks what it is sent, heartbeats healthy metrics. */
interface Instance {
  id: string;
  token: string;
  /** Updates received, by the URL of the server whose socket delivered them. */
  received: Map<string, Update[]>;
  applied: number | null;
  connect(server: Server): void;
  stop(): Promise<void>;
}

const SUBSCRIBE = 'subscription($id: ID!) { configUpdates(instanceId: $id) { profileName version deploymentId } }';

/** The pid in a lease owner name (host:pid:random). */
const pidOf = (owner: string | null) => (owner === null ? null : Number(owner.split(':').at(-2)));

function harness() {
  let db: TestDatabase;
  let admin: string;
  const prefix = `test:${randomBytes(4).toString('hex')}:`;
  const servers: Server[] = [];
  const instances: Instance[] = [];

  const live = () => servers.filter((s) => !s.dead);

  async function start(): Promise<Server> {
    const process = spawnService({
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      JWT_SECRET: SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_SECOND: '0',
      HOTSWAP_LEASE_MS: '1500',
      HOTSWAP_REDIS_PREFIX: prefix,
    });
    const [, url] = await process.waitFor(/"url":"([^"]+)"/);
    const server: Server = { process, url: url!, pid: process.child.pid!, dead: false };
    servers.push(server);
    return server;
  }

  async function gql<T>(server: Server, query: string, variables: Record<string, unknown> = {}, token = admin): Promise<T> {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  }

  /** Sends to the first live server that answers (clients behind a load balancer). */
  async function anyGql<T>(query: string, variables: Record<string, unknown> = {}, token = admin): Promise<T> {
    let last: unknown = new Error('no live server');
    for (const s of live()) {
      try {
        return await gql<T>(s, query, variables, token);
      } catch (error) {
        last = error;
      }
    }
    throw last;
  }

  async function instance(service: string): Promise<Instance> {
    const registrar = await mintToken(SECRET, { sub: 'registrar', role: Role.INSTANCE, service, environment: Environment.STAGING, expiresInSeconds: 600 });
    const { registerInstance } = await anyGql<{ registerInstance: { instance: { id: string }; token: string } }>(
      'mutation($s: String!) { registerInstance(input: { service: $s, environment: STAGING, host: "sim" }) { instance { id } token } }',
      { s: service },
      registrar,
    );
    const { id } = registerInstance.instance;
    const token = registerInstance.token;
    const sockets: TestWsClient[] = [];
    const acking = new Set<Promise<unknown>>();
    const inst: Instance = {
      id,
      token,
      received: new Map(),
      applied: null,
      connect(server) {
        const ws = connectWs(server.url, token, { retryAttempts: 0 });
        sockets.push(ws);
        const list: Update[] = [];
        inst.received.set(server.url, list);
        ws.client.subscribe<{ configUpdates: Update }>(
          { query: SUBSCRIBE, variables: { id } },
          {
            next: (m) => {
              const u = m.data?.configUpdates;
              if (!u) return;
              list.push(u);
              // A real client applies a version it does not run yet, and reports it.
              if (u.version === inst.applied) return;
              const run = ackWithRetry(u).catch(() => undefined);
              acking.add(run);
              void run.finally(() => acking.delete(run));
            },
            error: () => {},
            complete: () => {},
          },
        );
      },
      async stop() {
        clearInterval(beats);
        await Promise.allSettled([...acking]);
        await Promise.allSettled(sockets.map((s) => s.dispose()));
      },
    };
    const ackWithRetry = async (u: Update) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          await anyGql(
            'mutation($i: ID!, $p: String!, $v: Int!) { reportConfigApplied(instanceId: $i, profileName: $p, version: $v, success: true, reloadMs: 3) }',
            { i: id, p: u.profileName, v: u.version },
            token,
          );
          inst.applied = u.version;
          return;
        } catch {
          await sleep(200);
        }
      }
    };
    const beats = setInterval(() => {
      void anyGql('mutation($i: ID!, $m: InstanceMetricsInput) { heartbeat(instanceId: $i, metrics: $m) { id } }', { i: id, m: HEALTHY }, token).catch(
        () => undefined,
      );
    }, 100);
    instances.push(inst);
    return inst;
  }

  /** The updates of `version` sent by deployment `deploymentId` that the instance received through `server`'s socket. */
  const pushesVia = (inst: Instance, server: Server, deploymentId: string, version: number) =>
    (inst.received.get(server.url) ?? []).filter((u) => u.deploymentId === deploymentId && u.version === version).length;

  const row = async (id: string) =>
    (await db.query<DeploymentRow>('select status, phase, strategy_state, lease_owner from deployment where id = $1', [id]))[0]!;
  const events = (id: string) =>
    db.query<{ type: string; phase: number; message: string | null }>('select type, phase, message from deployment_event where deployment_id = $1 order by id', [id]);
  const targets = (id: string) =>
    db.query<{ instance_id: string; phase: number; state: string }>('select instance_id, phase, state from deployment_target where deployment_id = $1 order by phase, instance_id', [id]);

  async function waitStatus(id: string, status: string, timeoutMs = 40_000): Promise<DeploymentRow> {
    return pollUntil(() => row(id), (r) => r.status === status || ['FAILED', 'ROLLED_BACK'].includes(r.status), {
      timeoutMs,
      intervalMs: 100,
      what: `deployment ${id} ${status}`,
    });
  }

  /** A profile with versions 1 and 2, `count` instances subscribed on every live server, version 1 deployed to them all. */
  async function fleet(name: string, count: number): Promise<Instance[]> {
    await anyGql(`mutation { createProfile(input: { name: "${name}", service: "${name}", environment: STAGING }) { name } }`);
    await anyGql(`mutation { publishVersion(profileName: "${name}", input: { data: { v: 1 } }) { version } }`);
    await anyGql(`mutation { publishVersion(profileName: "${name}", input: { data: { v: 2 } }) { version } }`);
    const fleet: Instance[] = [];
    for (let k = 0; k < count; k++) {
      const inst = await instance(name);
      for (const s of live()) inst.connect(s);
      fleet.push(inst);
    }
    await sleep(300);
    const { startDeployment } = await anyGql<{ startDeployment: { id: string } }>(
      `mutation { startDeployment(input: { profileName: "${name}", version: 1, strategy: DIRECT, ackTimeoutSeconds: 10 }) { id } }`,
    );
    expect((await waitStatus(startDeployment.id, 'COMPLETED')).status).toBe('COMPLETED');
    // Every socket is live (each delivered version 1), and a baseline of heartbeats exists.
    await pollUntil(
      async () => fleet.every((i) => live().every((s) => pushesVia(i, s, startDeployment.id, 1) === 1)),
      (okay) => okay,
      { timeoutMs: 10_000, what: 'version 1 on every socket' },
    );
    await sleep(500);
    return fleet;
  }

  async function startCanary(name: string, bakeSeconds: number): Promise<string> {
    const { startDeployment } = await anyGql<{ startDeployment: { id: string } }>(
      `mutation { startDeployment(input: { profileName: "${name}", version: 2, strategy: CANARY, canary: { bakeSeconds: ${bakeSeconds} }, ackTimeoutSeconds: 10 }) { id } }`,
    );
    return startDeployment.id;
  }

  /** Polls until phase 1 of the deployment applied and bakes. */
  const phaseOneBaking = (id: string) =>
    pollUntil(() => row(id), (r) => r.phase === 1 && r.strategy_state.stage === 'OBSERVE', { timeoutMs: 20_000, intervalMs: 30, what: 'phase 1 baking' });

  return {
    get db() {
      return db;
    },
    servers,
    instances,
    async setUp() {
      db = await createTestDatabase();
      admin = await mintToken(SECRET, { sub: 'admin', role: Role.ADMIN, expiresInSeconds: 600 });
    },
    async tearDown() {
      await Promise.allSettled(instances.map((i) => i.stop()));
      await Promise.allSettled(servers.map((s) => s.process.kill('SIGKILL')));
      await db?.drop();
    },
    start,
    gql,
    anyGql,
    fleet,
    startCanary,
    phaseOneBaking,
    pushesVia,
    row,
    events,
    targets,
    waitStatus,
  };
}

describe('a replica killed with SIGKILL during a canary bake', () => {
  const h = harness();

  beforeAll(async () => {
    await h.setUp();
    await Promise.all([h.start(), h.start()]);
  }, 60_000);
  afterAll(() => h.tearDown(), 30_000);

  it('the other replica takes over, continues from the persisted phase with its baseline, and never re-sends to instances that applied', async () => {
    const fleet = await h.fleet('bake-kill', 6);
    const id = await h.startCanary('bake-kill', 3);

    const baking = await h.phaseOneBaking(id);
    const baseline = baking.strategy_state.baseline;
    expect(baseline).not.toBeNull();
    expect(baseline!.instances).toBe(6);
    const victim = h.servers.find((s) => s.pid === pidOf(baking.lease_owner))!;
    expect(victim).toBeDefined();
    const survivor = h.servers.find((s) => s !== victim)!;
    const phaseOne = (await h.targets(id)).filter((t) => t.phase === 1).map((t) => t.instance_id);
    expect(phaseOne.length).toBeGreaterThan(0);

    victim.dead = true;
    expect(await victim.process.kill('SIGKILL')).toBeNull();
    const killedAt = await h.row(id);
    expect(killedAt).toMatchObject({ status: 'IN_PROGRESS', phase: 1 });

    // The survivor claims the deployment once the dead replica's lease (1.5 s) ran out.
    const taken = await pollUntil(() => h.row(id), (r) => pidOf(r.lease_owner) === survivor.pid || r.status === 'COMPLETED', {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: 'the survivor to take the lease',
    });
    expect(taken.status).toBe('IN_PROGRESS');

    const done = await h.waitStatus(id, 'COMPLETED', 45_000);
    expect(done.status).toBe('COMPLETED');
    expect(done.strategy_state.baseline).toEqual(baseline);

    const evs = await h.events(id);
    // Continued, never restarted: each phase started and completed exactly once, phase 1 judged with the original baseline.
    expect(evs.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2, 3, 4]);
    expect(evs.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.phase)).toEqual([1, 2, 3, 4]);
    expect(evs.filter((e) => e.type === 'HEALTH_CHECKED').map((e) => e.phase)).toEqual([1, 2, 3, 4]);
    expect(evs.at(-1)!.type).toBe('COMPLETED');
    expect((await h.targets(id)).every((t) => t.state === 'APPLIED')).toBe(true);

    await pollUntil(async () => fleet.every((i) => i.applied === 2), (v) => v, { timeoutMs: 5000, what: 'every instance on version 2' });
    for (const inst of fleet) {
      // The survivor's socket carries every push published after the kill (and before it: pub/sub reaches both replicas).
      expect(h.pushesVia(inst, survivor, id, 2), `pushes of version 2 to ${inst.id}`).toBe(1);
      if (phaseOne.includes(inst.id)) expect(h.pushesVia(inst, victim, id, 2)).toBe(1);
    }
  }, 90_000);
});

describe('a canary paused during its bake across a server restart', () => {
  const h = harness();

  beforeAll(async () => {
    await h.setUp();
    await h.start();
  }, 60_000);
  afterAll(() => h.tearDown(), 30_000);

  it('is still PAUSED on the new server, and completes once resumed', async () => {
    const fleet = await h.fleet('paused-restart', 4);
    const id = await h.startCanary('paused-restart', 2);
    await h.phaseOneBaking(id);
    const first = h.servers[0]!;
    const paused = await h.anyGql<{ pauseDeployment: { status: string } }>('mutation($id: ID!) { pauseDeployment(id: $id) { status } }', { id });
    expect(paused.pauseDeployment.status).toBe('PAUSED');

    first.dead = true;
    expect(await first.process.kill('SIGTERM')).toBe(0);
    // A clean stop hands the deployment over at once.
    expect(await h.row(id)).toMatchObject({ status: 'PAUSED', phase: 1, lease_owner: null });

    const second = await h.start();
    for (const inst of fleet) inst.connect(second);
    // The new server claims the paused deployment and leaves it paused, past the end of the bake.
    const claimed = await pollUntil(() => h.row(id), (r) => pidOf(r.lease_owner) === second.pid, {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: 'the new server to hold the lease',
    });
    expect(claimed).toMatchObject({ status: 'PAUSED', phase: 1 });
    await sleep(2500);
    expect(await h.row(id)).toMatchObject({ status: 'PAUSED', phase: 1 });
    const phaseOne = (await h.targets(id)).filter((t) => t.phase === 1).map((t) => t.instance_id);
    for (const inst of fleet) {
      if (!phaseOne.includes(inst.id)) expect(h.pushesVia(inst, second, id, 2)).toBe(0);
    }
    expect((await h.targets(id)).filter((t) => t.phase > 1).every((t) => t.state === 'PENDING')).toBe(true);

    const resumed = await h.gql<{ resumeDeployment: { status: string } }>(second, 'mutation($id: ID!) { resumeDeployment(id: $id) { status } }', { id });
    expect(resumed.resumeDeployment.status).toBe('IN_PROGRESS');
    const done = await h.waitStatus(id, 'COMPLETED', 45_000);
    expect(done.status).toBe('COMPLETED');

    const evs = await h.events(id);
    const types = evs.map((e) => e.type);
    expect(types.indexOf('PAUSED')).toBeLessThan(types.indexOf('RESUMED'));
    expect(evs.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2, 3, 4]);
    expect(evs.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.phase)).toEqual([1, 2, 3, 4]);
    expect(types.at(-1)).toBe('COMPLETED');
    await pollUntil(async () => fleet.every((i) => i.applied === 2), (v) => v, { timeoutMs: 5000, what: 'every instance on version 2' });
    for (const inst of fleet) {
      // Version 2 pushed once per instance, over both servers' sockets together.
      expect(h.pushesVia(inst, first, id, 2) + h.pushesVia(inst, second, id, 2), `pushes of version 2 to ${inst.id}`).toBe(1);
    }
  }, 90_000);
});
