import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, ok, publish } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { connectWs, type TestWsClient } from '../support/ws-client.js';

const SUBSCRIBE = 'subscription($id: ID!) { configUpdates(instanceId: $id) { version deploymentId } }';
const ACK = 'mutation($i: ID!, $p: String!, $v: Int!, $ok: Boolean!, $e: String) { reportConfigApplied(instanceId: $i, profileName: $p, version: $v, success: $ok, error: $e) }';

interface Update {
  configUpdates: { version: number; deploymentId: string | null };
}

/** Regressions from review: what an instance is sent, and acks that must not be lost. */
describe('delivery guarantees', () => {
  let server: TestServer;
  let a: Api;
  const sockets: TestWsClient[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server.stop();
  });

  const register = async (service: string) => {
    const reg = await server.token(Role.INSTANCE, { service, environment: Environment.STAGING });
    const r = ok(
      await a.gql<{ registerInstance: { instance: { id: string }; token: string } }>(
        'mutation($s: String!) { registerInstance(input: { service: $s, environment: STAGING, host: "h" }) { instance { id } token } }',
        { s: service },
        reg,
      ),
    );
    return { id: r.registerInstance.instance.id, token: r.registerInstance.token };
  };
  const subscribe = (inst: { id: string; token: string }) => {
    const client = connectWs(server.url, inst.token);
    sockets.push(client);
    return client.subscribe<Update>(SUBSCRIBE, { id: inst.id });
  };
  const ack = (inst: { id: string; token: string }, p: string, v: number, success = true, error: string | null = null) =>
    a.gql(ACK, { i: inst.id, p, v, ok: success, e: error }, inst.token);
  const deploy = async (p: string, v: number, extra = '') =>
    ok(await a.gql<{ startDeployment: { id: string } }>(`mutation { startDeployment(input: { profileName: "${p}", version: ${v}, strategy: DIRECT ${extra} }) { id } }`)).startDeployment.id;
  const statusOf = async (id: string) => ok(await a.gql<{ deployment: { status: string } }>('query($id: ID!) { deployment(id: $id) { status } }', { id })).deployment.status;
  const waitStatus = (id: string, want: string) =>
    pollUntil(() => statusOf(id), (s) => s === want, { timeoutMs: 15_000, what: `deployment ${id} to be ${want}` });

  it('an instance that joined mid-deployment is sent the new version when the deployment completes', async () => {
    await createProfile(a, 'late-join', { service: 'late' });
    await publish(a, 'late-join', { v: 1 });
    await publish(a, 'late-join', { v: 2 });
    const first = await register('late');
    const firstSub = subscribe(first);
    await expect(firstSub.next(200)).rejects.toThrow();
    const d1 = await deploy('late-join', 1);
    await firstSub.next();
    await ack(first, 'late-join', 1);
    await waitStatus(d1, 'COMPLETED');

    const d2 = await deploy('late-join', 2, ', ackTimeoutSeconds: 30');
    expect((await firstSub.next()).data?.configUpdates.version).toBe(2);
    const late = await register('late'); // not a target of d2
    const lateSub = subscribe(late);
    expect((await lateSub.next()).data?.configUpdates).toEqual({ version: 1, deploymentId: null });
    await ack(first, 'late-join', 2);
    await waitStatus(d2, 'COMPLETED');
    // Caught up when the deployment completes, without resubscribing.
    expect((await lateSub.next()).data?.configUpdates).toEqual({ version: 2, deploymentId: d2 });

    const again = subscribe(late);
    expect((await again.next()).data?.configUpdates).toEqual({ version: 2, deploymentId: null });
    expect(ok(await ack(late, 'late-join', 2))).toEqual({ reportConfigApplied: true });
  }, 30_000);

  it('a failure ack with a malformed error text does not fail the acks written with it', async () => {
    await createProfile(a, 'poison', { service: 'poison' });
    await publish(a, 'poison', { v: 1 });
    const fleet = await Promise.all([register('poison'), register('poison')]);
    const subs = fleet.map(subscribe);
    await new Promise((r) => setTimeout(r, 200));
    const id = await deploy('poison', 1);
    for (const s of subs) await s.next();
    const [good, bad] = await Promise.all([ack(fleet[0]!, 'poison', 1), ack(fleet[1]!, 'poison', 1, false, `${'x'.repeat(1999)}\u{1F600} and \ud800`)]);
    expect(good.errors).toBeUndefined();
    expect(bad.errors).toBeUndefined();
    await waitStatus(id, 'FAILED');
    const targets = ok(await a.gql<{ deployment: { targets: Array<{ state: string; error: string | null }> } }>('query($id: ID!) { deployment(id: $id) { targets { state error } } }', { id })).deployment.targets;
    expect(targets.map((t) => t.state).sort()).toEqual(['APPLIED', 'FAILED']);
  });

  it('sends an unanswered push again while other pushes keep going out, until it is acked', async () => {
    await createProfile(a, 'repush', { service: 'repush' });
    await publish(a, 'repush', { v: 1 });
    const fleet = await Promise.all([1, 2, 3].map(() => register('repush')));
    const subs = fleet.map(subscribe);
    await new Promise((r) => setTimeout(r, 200));
    const id = await deploy('repush', 1, ', ackTimeoutSeconds: 20, direct: { maxConcurrency: 2 }');
    const pushed = async (n: number) => {
      const readPushed = async () =>
        ok(await a.gql<{ deployment: { targets: Array<{ instanceId: string; state: string }> } }>('query($id: ID!) { deployment(id: $id) { targets { instanceId state } } }', { id }))
          .deployment.targets.filter((t) => t.state !== 'PENDING')
          .map((t) => t.instanceId);
      return pollUntil(readPushed, (ids) => ids.length >= n, { timeoutMs: 10_000, what: `${n} targets pushed` });
    };
    const [silentId, otherId] = await pushed(2);
    const silent = fleet.find((f) => f.id === silentId)!;
    const silentSub = subs[fleet.indexOf(silent)]!;
    expect((await silentSub.next()).data?.configUpdates.version).toBe(1); // its first copy, "lost"
    await ack(fleet.find((f) => f.id === otherId)!, 'repush', 1); // frees a slot: the third is pushed
    const third = (await pushed(3)).find((x) => x !== silentId && x !== otherId)!;
    await ack(fleet.find((f) => f.id === third)!, 'repush', 1);
    const again = await silentSub.next(10_000); // sent again about 5 s after the first
    expect(again.data?.configUpdates).toEqual({ version: 1, deploymentId: id });
    await ack(silent, 'repush', 1);
    await waitStatus(id, 'COMPLETED');
  }, 40_000);
});
