import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { Environment, Role } from '../../src/domain/enums.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { type ServiceProcess, spawnService } from '../support/process.js';
import { pollUntil } from '../support/wait.js';
import { connectWs, type TestWsClient } from '../support/ws-client.js';

const SECRET = 'replica-secret-0123456789abcdef0123456789';
const SUBSCRIBE = 'subscription($id: ID!) { configUpdates(instanceId: $id) { profileName version deploymentId } }';

interface Replica {
  process: ServiceProcess;
  url: string;
}

/** Two HotSwap processes on one PostgreSQL and one Redis: the production shape. */
describe('several replicas', () => {
  let db: TestDatabase;
  let admin: string;
  const replicas: Replica[] = [];
  const sockets: TestWsClient[] = [];
  const prefix = `test:${randomBytes(4).toString('hex')}:`;

  const startReplica = async (): Promise<Replica> => {
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
    const replica = { process, url: url! };
    replicas.push(replica);
    return replica;
  };

  const gql = async <T>(replica: Replica, query: string, variables: Record<string, unknown> = {}, token = admin): Promise<T> => {
    const res = await fetch(replica.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  };

  const register = async (replica: Replica, service: string) => {
    const reg = await mintToken(SECRET, { sub: 'registrar', role: Role.INSTANCE, service, environment: Environment.STAGING, expiresInSeconds: 600 });
    const r = await gql<{ registerInstance: { instance: { id: string }; token: string } }>(
      replica,
      'mutation($s: String!) { registerInstance(input: { service: $s, environment: STAGING, host: "h" }) { instance { id } token } }',
      { s: service },
      reg,
    );
    return { id: r.registerInstance.instance.id, token: r.registerInstance.token };
  };

  const subscribe = (replica: Replica, inst: { id: string; token: string }) => {
    const client = connectWs(replica.url, inst.token);
    sockets.push(client);
    return client.subscribe<{ configUpdates: { version: number; deploymentId: string | null } }>(SUBSCRIBE, { id: inst.id });
  };

  const ack = (replica: Replica, inst: { id: string; token: string }, profile: string, version: number) =>
    gql(replica, 'mutation($i: ID!, $p: String!, $v: Int!) { reportConfigApplied(instanceId: $i, profileName: $p, version: $v, success: true) }', { i: inst.id, p: profile, v: version }, inst.token);



  beforeAll(async () => {
    db = await createTestDatabase();
    admin = await mintToken(SECRET, { sub: 'admin', role: Role.ADMIN, expiresInSeconds: 600 });
    await Promise.all([startReplica(), startReplica()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await Promise.all(replicas.map((r) => r.process.kill('SIGKILL')));
    await db.drop();
  });

  it('delivers a deployment started through replica A to a subscriber on replica B, and completes it', async () => {
    const [a, b] = replicas as [Replica, Replica];
    await gql(a, 'mutation { createProfile(input: { name: "multi", service: "multi", environment: STAGING }) { name } }');
    await gql(a, 'mutation { publishVersion(profileName: "multi", input: { data: { v: 1 } }) { version } }');
    const inst = await register(b, 'multi');
    const sub = subscribe(b, inst);
    await expect(sub.next(300)).rejects.toThrow(); // nothing active yet: the subscription is live and quiet

    const { startDeployment } = await gql<{ startDeployment: { id: string } }>(a, 'mutation { startDeployment(input: { profileName: "multi", version: 1, strategy: DIRECT }) { id } }');
    const pushed = await sub.next(5000);
    expect(pushed.data?.configUpdates).toEqual({ version: 1, deploymentId: startDeployment.id, profileName: 'multi' });
    await ack(b, inst, 'multi', 1);
    const done = await pollUntil(
      () => gql<{ deployment: { status: string } }>(a, 'query($id: ID!) { deployment(id: $id) { status } }', { id: startDeployment.id }),
      (d) => d.deployment.status === 'COMPLETED',
      { timeoutMs: 15_000, what: 'COMPLETED' },
    );
    expect(done.deployment.status).toBe('COMPLETED');
  }, 30_000);

  it('finishes a deployment on the other replica after the one running it is killed with SIGKILL', async () => {
    await gql(replicas[0]!, 'mutation { createProfile(input: { name: "takeover", service: "takeover", environment: STAGING }) { name } }');
    await gql(replicas[0]!, 'mutation { publishVersion(profileName: "takeover", input: { data: { v: 1 } }) { version } }');
    const fleet = await Promise.all([1, 2, 3].map(() => register(replicas[0]!, 'takeover')));
    // Each instance listens on both replicas, as clients behind a load balancer reconnect to whichever is alive.
    const subs = fleet.map((inst) => replicas.map((r) => subscribe(r, inst)));
    await new Promise((r) => setTimeout(r, 300));

    const { startDeployment } = await gql<{ startDeployment: { id: string } }>(
      replicas[1]!,
      'mutation { startDeployment(input: { profileName: "takeover", version: 1, strategy: DIRECT, ackTimeoutSeconds: 60 }) { id } }',
    );
    for (const pair of subs) expect((await Promise.any(pair.map((s) => s.next(5000)))).data?.configUpdates.version).toBe(1);

    const owner = await db.query<{ lease_owner: string }>('select lease_owner from deployment where id = $1', [startDeployment.id]);
    const ownerPid = Number(owner[0]!.lease_owner.split(':')[1]);
    const runner = replicas.find((r) => r.process.child.pid === ownerPid)!;
    expect(runner).toBeDefined();
    const survivor = replicas.find((r) => r !== runner)!;
    expect(await runner.process.kill('SIGKILL')).toBeNull();

    for (const inst of fleet) await ack(survivor, inst, 'takeover', 1);
    const finished = await pollUntil(
      () => gql<{ deployment: { status: string; targets: Array<{ state: string }> } }>(survivor, 'query($id: ID!) { deployment(id: $id) { status targets { state } } }', { id: startDeployment.id }),
      (d) => d.deployment.status === 'COMPLETED',
      { timeoutMs: 15_000, what: 'takeover and COMPLETED' },
    );
    expect(finished.deployment.targets.map((t) => t.state)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    const lease = await db.query<{ lease_owner: string | null }>('select lease_owner from deployment where id = $1', [startDeployment.id]);
    expect(lease[0]!.lease_owner).toBeNull();
  }, 40_000);
});
