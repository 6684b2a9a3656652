import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, ok } from '../support/api.js';
import {
  ackOk,
  CONFIG_UPDATES,
  type Fleet,
  noAck,
  readDeployment,
  REPORT_APPLIED,
  startDeployment,
  startFleet,
  waitForDeployment,
} from '../support/fleet.js';
import { profileWithVersions } from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { connectWs } from '../support/ws-client.js';

/**
 * Targets are the instances that are there: connected when the deployment
 * starts; one that disconnects and is not back within the reconnect grace is
 * LEFT and does not fail the deployment; one that comes back in time acks.
 */
const GRACE_MS = 3000;
const CONNECTED = `query($s: String!) { instances(service: $s) { id connected } }`;

describe('deployment targets and instances that go away', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_RECONNECT_GRACE_MS: String(GRACE_MS) });
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  const fleet = async (o: Parameters<typeof startFleet>[1]) => {
    const f = await startFleet(a, o);
    fleets.push(f);
    return f;
  };
  const profile = (name: string, service: string) => profileWithVersions(a, name, 1, { service });
  const connectedOf = async (service: string) =>
    new Map(ok(await a.gql<{ instances: Array<{ id: string; connected: boolean }> }>(CONNECTED, { s: service })).instances.map((i) => [i.id, i.connected]));

  it('an instance whose process stopped (socket closed, still registered) is no target: the deployment completes at once', async () => {
    const service = 'gone-before-svc';
    await profile('gone-before', service);
    const f = await fleet({ service, count: 3 });
    const [stopped, ...running] = f.instances;
    await stopped!.close();
    await pollUntil(() => connectedOf(service), (m) => m.get(stopped!.id) === false, { what: 'the closed instance to count as disconnected' });

    const t0 = Date.now();
    const started = await startDeployment(a, { profileName: 'gone-before', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 30 });
    expect(started.targets.map((t) => t.instanceId).sort()).toEqual(running.map((i) => i.id).sort());
    const done = await waitForDeployment(a, started.id, 10_000);
    expect(done.status).toBe('COMPLETED');
    // Far inside the 30 s ack timeout that a dead target used to cost.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((await connectedOf(service)).get(stopped!.id)).toBe(false);
  });

  it('an instance that disconnects mid-deployment and does not return is LEFT, and the deployment completes', async () => {
    const service = 'gone-during-svc';
    await profile('gone-during', service);
    const f = await fleet({ service, count: 3, behavior: (i) => (i === 0 ? noAck : ackOk(3)) });
    const leaving = f.instances[0]!;
    const started = await startDeployment(a, { profileName: 'gone-during', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 1 });
    await leaving.waitForUpdate((u) => u.deploymentId === started.id);
    await leaving.close();

    const done = await waitForDeployment(a, started.id, 10_000);
    expect(done.status).toBe('COMPLETED');
    expect(done.progress).toBe(1);
    const byId = new Map(done.targets.map((t) => [t.instanceId, t]));
    expect(byId.get(leaving.id)).toMatchObject({ state: 'LEFT' });
    expect(byId.get(leaving.id)!.error).toMatch(/disconnected at .* and not back within 3 s/);
    for (const i of f.instances.slice(1)) expect(byId.get(i.id)).toMatchObject({ state: 'APPLIED' });
  });

  it('an instance that disconnects and comes back within the grace gets its config again, acks it, and counts as APPLIED', async () => {
    const service = 'back-again-svc';
    await profile('back-again', service);
    const f = await fleet({ service, count: 2, behavior: (i) => (i === 0 ? noAck : ackOk(3)) });
    const flaky = f.instances[0]!;
    const started = await startDeployment(a, { profileName: 'back-again', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 1 });
    await flaky.waitForUpdate((u) => u.deploymentId === started.id);
    await flaky.close();
    await pollUntil(() => connectedOf(service), (m) => m.get(flaky.id) === false, { what: 'the flaky instance to count as disconnected' });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await readDeployment(a, started.id))!.targets.find((t) => t.instanceId === flaky.id)).toMatchObject({ state: 'PUSHED' });

    // Back on a new socket, past its 1 s ack deadline but inside the grace: it is sent its assigned version first.
    const ws = connectWs(server.url, flaky.token);
    try {
      const sub = ws.subscribe<{ configUpdates: { profileName: string; version: number } }>(CONFIG_UPDATES, { id: flaky.id });
      const first = (await sub.next(5000)).data!.configUpdates;
      expect(first).toMatchObject({ profileName: 'back-again', version: 1 });
      ok(await a.gql(REPORT_APPLIED, { id: flaky.id, p: 'back-again', v: 1, ok: true, ms: 7, err: null }, flaky.token));
      const done = await waitForDeployment(a, started.id, 10_000);
      expect(done.status).toBe('COMPLETED');
      expect(done.targets.find((t) => t.instanceId === flaky.id)).toMatchObject({ state: 'APPLIED', reloadMs: 7 });
    } finally {
      await ws.dispose();
    }
  });

  it('an instance away while a deployment runs is no target, and is sent the new version when it comes back', async () => {
    const service = 'away-svc';
    await profileWithVersions(a, 'away', 2, { service });
    const f = await fleet({ service, count: 2 });
    expect((await waitForDeployment(a, (await startDeployment(a, { profileName: 'away', version: 1, strategy: 'DIRECT' })).id)).status).toBe('COMPLETED');
    const away = f.instances[0]!;
    await away.close();
    await pollUntil(() => connectedOf(service), (m) => m.get(away.id) === false, { what: 'the instance to count as away' });

    const second = await startDeployment(a, { profileName: 'away', version: 2, strategy: 'DIRECT' });
    expect(second.targets.map((t) => t.instanceId)).toEqual([f.instances[1]!.id]);
    expect((await waitForDeployment(a, second.id)).status).toBe('COMPLETED');

    // Its last push came from the first (finished) deployment: it is assigned the new active version now.
    const ws = connectWs(server.url, away.token);
    try {
      const sub = ws.subscribe<{ configUpdates: { version: number; deploymentId: string | null } }>(CONFIG_UPDATES, { id: away.id });
      expect((await sub.next(5000)).data!.configUpdates).toMatchObject({ version: 2, deploymentId: null });
    } finally {
      await ws.dispose();
    }
  });

  it('an instance that stays connected and does not ack still fails the deployment (TIMED_OUT)', async () => {
    const service = 'silent-svc';
    await profile('silent', service);
    const f = await fleet({ service, count: 2, behavior: (i) => (i === 0 ? noAck : ackOk(3)) });
    const started = await startDeployment(a, { profileName: 'silent', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 1 });
    const done = await waitForDeployment(a, started.id, 10_000);
    expect(done.status).toBe('FAILED');
    expect(done.targets.find((t) => t.instanceId === f.instances[0]!.id)).toMatchObject({ state: 'TIMED_OUT' });
  });
});
