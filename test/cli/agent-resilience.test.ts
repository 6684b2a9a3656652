import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Environment } from '../../src/domain/enums.js';
import { agentInstanceId, agentSubscribed, type Proc, registrationToken, startAgentProcess, startPythonService, tempDir } from '../support/agent.js';
import { api, type Api, createProfile, ok, publish } from '../support/api.js';
import { startDeployment, waitForDeployment } from '../support/fleet.js';
import { freePort } from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

/**
 * `hotswap agent` when things go wrong: the service's own metrics fail a
 * canary, a killed agent comes back as the same instance and serves its last
 * config while HotSwap is down, and bad input stops it at start in one line.
 */

const INSTANCES = 'query($service: String) { instances(service: $service) { id lastHeartbeatAt } }';
const EVENTS = 'query($id: ID!) { deployment(id: $id) { status events(last: 20) { type message } } }';
const HEALTH = 'query($id: ID!) { deployment(id: $id) { status rollbackReason health { verdict reasons } } }';

describe('hotswap agent: health, restarts and bad input', () => {
  let server: TestServer;
  let a: Api;
  const running: Proc[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_HEARTBEAT_INTERVAL_MS: '200', HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
    a = api(server);
  });

  afterEach(async () => {
    await Promise.allSettled(running.splice(0).map((p) => p.stop('SIGKILL')));
  });

  afterAll(async () => {
    await Promise.allSettled(cleanups.map((c) => c()));
    await server?.stop();
  });

  async function dir(): Promise<string> {
    const t = await tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  }

  it('the service\'s error counter, scraped by the agent, fails the canary of the version that raises it', async () => {
    const name = 'agent-metrics';
    const service = `${name}-svc`;
    await createProfile(a, name, { service, environment: Environment.STAGING });
    await publish(a, name, { v: 1, errorShare: 0.01 });
    await publish(a, name, { v: 2, errorShare: 0.2 });
    const token = await registrationToken(server, service);
    // Four services, each with its agent: phase 1 updates two, the two others are the control group.
    for (let k = 0; k < 4; k += 1) {
      const d = await dir();
      const file = path.join(d, 'config.json');
      await writeFile(file, '{}');
      const py = await startPythonService(d, file);
      running.push(py);
      const agent = startAgentProcess(server, token, [
        '--service', service, '--environment', 'STAGING', '--state-dir', path.join(d, 'state'),
        '--file', file, '--signal', 'HUP', '--pid-file', py.pidFile, '--metrics-url', py.metricsUrl,
      ]);
      running.push(agent);
      await agentSubscribed(agent, server);
    }
    const first = await startDeployment(a, { profileName: name, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
    expect((await waitForDeployment(a, first.id, 20_000)).status).toBe('COMPLETED');
    await new Promise((r) => setTimeout(r, 3000)); // heartbeats with the services' metrics: a baseline
    const d = await startDeployment(a, { profileName: name, version: 2, strategy: 'CANARY', canary: { phases: [0.5, 1.0], bakeSeconds: 3 }, ackTimeoutSeconds: 10 });
    expect((await waitForDeployment(a, d.id, 40_000)).status).toBe('ROLLED_BACK');
    const h = ok(await a.gql<{ deployment: { rollbackReason: string } }>(HEALTH, { id: d.id })).deployment;
    // The services' error share moves from 1 % to 20 %; a median over a few scrapes of a counter's rate lands around 20-30 %.
    const reason = /^phase 1 of 2: health degraded: error rate: canary median (\d+(?:\.\d+)?) % vs control (\d+(?:\.\d+)?) % \(n=\d+\/\d+\), p[<=]/.exec(h.rollbackReason);
    expect(reason, h.rollbackReason).not.toBeNull();
    expect(Number(reason![1])).toBeGreaterThanOrEqual(10);
    expect(Number(reason![2])).toBeLessThan(5);
  }, 90_000);

  it('killed and restarted, keeps its instance id; with HotSwap down it serves and writes its last config', async () => {
    const name = 'agent-restart';
    const service = `${name}-svc`;
    const restartable = await startTestServer({ HOTSWAP_HEARTBEAT_INTERVAL_MS: '200' });
    try {
      const ra = api(restartable);
      await createProfile(ra, name, { service, environment: Environment.STAGING });
      await publish(ra, name, { v: 1 });
      const d = await dir();
      const port = await freePort();
      const args = ['--service', service, '--environment', 'STAGING', '--state-dir', path.join(d, 'state'), '--file', path.join(d, '{profile}.json'), '--listen', String(port)];
      const token = await registrationToken(restartable, service);
      const agent = startAgentProcess(restartable, token, args);
      running.push(agent);
      const id = await agentSubscribed(agent, restartable);
      const deployed = await startDeployment(ra, { profileName: name, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
      expect((await waitForDeployment(ra, deployed.id, 20_000)).status).toBe('COMPLETED');
      await agent.stop('SIGKILL');

      await restartable.app.stop(); // HotSwap is down
      await writeFile(path.join(d, `${name}.json`), 'lost'); // and the file is gone bad meanwhile
      const again = startAgentProcess(restartable, token, args);
      running.push(again);
      const served = await pollUntil(
        () => fetch(`http://127.0.0.1:${port}/configs/${name}`).then(async (r) => ({ status: r.status, version: r.headers.get('x-hotswap-version'), body: await r.text() })).catch(() => null),
        (r) => r?.status === 200,
        { timeoutMs: 15_000, what: 'the restarted agent to serve its cached config' },
      );
      expect(served).toMatchObject({ version: '1' });
      expect(JSON.parse(served!.body)).toEqual({ v: 1 });
      expect(JSON.parse(await readFile(path.join(d, `${name}.json`), 'utf8'))).toEqual({ v: 1 });

      expect(await agentInstanceId(again)).toBe(id); // its saved token: the same instance
      const back = Date.now();
      await restartable.restart(); // HotSwap back (its in-process registry empty): the token restores the instance under its id
      const listed = await pollUntil(
        async () => ok(await ra.gql<{ instances: Array<{ id: string; lastHeartbeatAt: string }> }>(INSTANCES, { service })).instances,
        (list) => list.some((i) => i.id === id && Date.parse(i.lastHeartbeatAt) >= back),
        { timeoutMs: 20_000, what: 'the agent to heartbeat again as the same instance' },
      );
      expect(listed.map((i) => i.id)).toEqual([id]);
    } finally {
      await restartable.stop();
    }
  }, 90_000);

  it('refuses bad input at start with one line and exit 4: an unwritable path, a bad format, a missing token', async () => {
    const base = ['--service', 'x-svc', '--environment', 'STAGING'];
    const token = await registrationToken(server, 'x-svc');
    const run = async (args: string[], t = token) => {
      const p = startAgentProcess(server, t, [...base, ...args]);
      running.push(p);
      return { code: await p.exited, output: p.output() };
    };
    const unwritable = await run(['--file', '/proc/1/config.json', '--state-dir', path.join(await dir(), 's')]);
    expect(unwritable.code).toBe(4);
    expect(unwritable.output).toMatch(/^hotswap: cannot write config files in \/proc\/1: /m);
    const format = await run(['--file', path.join(await dir(), 'c.toml'), '--format', 'toml']);
    expect(format).toMatchObject({ code: 4, output: expect.stringMatching(/^hotswap: --format must be one of json, yaml, env, got toml$/m) });
    const none = await run(['--file', path.join(await dir(), 'c.json')], '');
    expect(none).toMatchObject({ code: 4, output: expect.stringMatching(/^hotswap: no registration token: set HOTSWAP_REGISTRATION_TOKEN/m) });
  }, 60_000);

  it('a hook that hangs fails its ack at the timeout, and a metrics endpoint that is down is no data, never healthy', async () => {
    const run = async (name: string, args: (file: string) => string[]) => {
      const service = `${name}-svc`;
      await createProfile(a, name, { service, environment: Environment.STAGING });
      await publish(a, name, { v: 1 });
      const d = await dir();
      const agent = startAgentProcess(server, await registrationToken(server, service), [
        '--service', service, '--environment', 'STAGING', '--state-dir', path.join(d, 'state'), ...args(path.join(d, 'c.json')),
      ]);
      running.push(agent);
      await agentSubscribed(agent, server);
      return name;
    };
    const hung = await run('agent-hang', (file) => ['--file', file, '--on-change', 'sleep 30', '--hook-timeout-seconds', '1']);
    const timedOut = await startDeployment(a, { profileName: hung, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
    const failed = await waitForDeployment(a, timedOut.id, 20_000);
    expect(failed.status).toBe('FAILED');
    expect(failed.targets[0]).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/^timed out after 1000 ms/) });

    const closed = await freePort();
    const blind = await run('agent-blind', (file) => ['--file', file, '--metrics-url', `http://127.0.0.1:${closed}/metrics`]);
    const judged = await startDeployment(a, { profileName: blind, version: 1, strategy: 'CANARY', canary: { phases: [1.0], bakeSeconds: 1 }, health: { evidenceTimeoutSeconds: 1 } });
    const paused = await pollUntil(
      async () => ok(await a.gql<{ deployment: { status: string; events: Array<{ type: string; message: string | null }> } }>(EVENTS, { id: judged.id })).deployment,
      (x) => x.status === 'PAUSED',
      { timeoutMs: 20_000, what: 'the canary to pause for want of evidence' },
    );
    expect(paused.events.find((e) => e.type === 'HEALTH_INCONCLUSIVE')?.message).toMatch(/inconclusive: not enough evidence: 0 of 1 updated instance sent 2 heartbeats with metrics/);
  }, 60_000);
});
