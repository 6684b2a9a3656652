import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, ok } from '../support/api.js';
import { startDeployment, waitForDeployment } from '../support/fleet.js';
import { agentSubscribed, type Proc, registrationToken, startAgentProcess, startPythonService, tempDir } from '../support/agent.js';
import { createProfile, publish } from '../support/api.js';
import { freePort } from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { Environment } from '../../src/domain/enums.js';
import { readFile } from 'node:fs/promises';

/**
 * `hotswap agent` end to end, every part a real process: the built CLI's
 * agent beside a Python service that reads its config file on SIGHUP and
 * exposes Prometheus metrics, against a real server.
 */

const TARGETS = 'query($id: ID!) { deployment(id: $id) { status rollbackReason targets { instanceId state reloadMs error } } }';

interface Targets {
  status: string;
  rollbackReason: string | null;
  targets: Array<{ instanceId: string; state: string; reloadMs: number | null; error: string | null }>;
}

describe('hotswap agent beside a Python service', () => {
  let server: TestServer;
  let a: Api;
  const running: Proc[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_HEARTBEAT_INTERVAL_MS: '200' });
    a = api(server);
  });

  afterEach(async () => {
    await Promise.allSettled(running.splice(0).map((p) => p.stop('SIGKILL')));
  });

  afterAll(async () => {
    await Promise.allSettled(cleanups.map((c) => c()));
    await server?.stop();
  });

  /** A profile of `service` with versions of the given configs, a Python service and its agent; resolves once version 1 is in place. */
  async function setUp(name: string, versions: Array<Record<string, unknown>>, agentArgs: (o: { file: string; pidFile: string; metricsUrl: string }) => string[]) {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const service = `${name}-svc`;
    await createProfile(a, name, { service, environment: Environment.STAGING });
    for (const data of versions) await publish(a, name, data);
    const file = path.join(dir, `${name}.json`);
    await writeFile(file, '{}');
    const py = await startPythonService(dir, file);
    running.push(py);
    const agent = startAgentProcess(server, await registrationToken(server, service), [
      '--service', service, '--environment', 'STAGING', '--state-dir', path.join(dir, 'state'),
      ...agentArgs({ file, pidFile: py.pidFile, metricsUrl: py.metricsUrl }),
    ]);
    running.push(agent);
    const instanceId = await agentSubscribed(agent, server);
    const first = await startDeployment(a, { profileName: name, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
    expect((await waitForDeployment(a, first.id, 20_000)).status).toBe('COMPLETED');
    await pollUntil(() => readFile(file, 'utf8'), (text) => text.includes('"v": 1'), { timeoutMs: 10_000, what: 'version 1 in the file' });
    return { dir, file, py, agent, instanceId, service };
  }

  const targetsOf = async (id: string) => ok(await a.gql<{ deployment: Targets }>(TARGETS, { id })).deployment;

  it('delivers a DIRECT deployment: file written, service reloaded by SIGHUP, the ack carries the hook\'s time', async () => {
    const s = await setUp('agent-direct', [{ v: 1 }, { v: 2 }], ({ file, pidFile }) => [
      '--file', file, '--on-change', `sleep 0.2 && kill -HUP $(cat ${pidFile})`,
    ]);
    const d = await startDeployment(a, { profileName: 'agent-direct', version: 2, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
    expect((await waitForDeployment(a, d.id, 20_000)).status).toBe('COMPLETED');
    const [target] = (await targetsOf(d.id)).targets;
    expect(target).toMatchObject({ instanceId: s.instanceId, state: 'APPLIED', error: null });
    expect(target!.reloadMs).toBeGreaterThanOrEqual(200);
    expect(JSON.parse(await readFile(s.file, 'utf8'))).toEqual({ v: 2 });
    await pollUntil(s.py.loaded, (l) => l.config['v'] === 2, { timeoutMs: 5000, what: 'the service to reload version 2' });
  }, 60_000);

  it('completes a CANARY too, each phase acked with the hook\'s time (a fleet without metrics, promoted as the policy says)', async () => {
    const s = await setUp('agent-canary', [{ v: 1 }, { v: 2 }], ({ file, pidFile }) => ['--file', file, '--on-change', `sleep 0.2 && kill -HUP $(cat ${pidFile})`]);
    const d = await startDeployment(a, {
      profileName: 'agent-canary', version: 2, strategy: 'CANARY', canary: { phases: [1.0], bakeSeconds: 0 },
      health: { onInconclusive: 'PROMOTE', evidenceTimeoutSeconds: 0 }, ackTimeoutSeconds: 10,
    });
    expect((await waitForDeployment(a, d.id, 20_000)).status).toBe('COMPLETED');
    const [target] = (await targetsOf(d.id)).targets;
    expect(target).toMatchObject({ instanceId: s.instanceId, state: 'APPLIED' });
    expect(target!.reloadMs).toBeGreaterThanOrEqual(200);
    await pollUntil(s.py.loaded, (l) => l.config['v'] === 2, { timeoutMs: 5000, what: 'the service to reload version 2' });
  }, 60_000);

  it('a reload command that exits 1 fails the ack: the canary rolls back and the file holds the previous version', async () => {
    const s = await setUp('agent-reject', [{ v: 1 }, { v: 2, broken: true }], ({ file, pidFile }) => [
      '--file', file, '--on-change', `if grep -q broken "$HOTSWAP_FILE"; then echo "config rejected: broken is set" >&2; exit 1; fi; kill -HUP $(cat ${pidFile})`,
    ]);
    const d = await startDeployment(a, { profileName: 'agent-reject', version: 2, strategy: 'CANARY', canary: { phases: [1.0], bakeSeconds: 0 }, ackTimeoutSeconds: 10 });
    expect((await waitForDeployment(a, d.id, 20_000)).status).toBe('ROLLED_BACK');
    const t = await targetsOf(d.id);
    expect(t.rollbackReason).toMatch(/exit 1: config rejected: broken is set/);
    expect(JSON.parse(await readFile(s.file, 'utf8'))).toEqual({ v: 1 });
    expect((await s.py.loaded()).config).toEqual({ v: 1 });
  }, 60_000);

  it('serves the config on localhost: ETag and If-None-Match, and a long-poll that answers when a deployment changes it', async () => {
    const port = await freePort();
    await setUp('agent-http', [{ v: 1 }, { v: 2 }], ({ file }) => ['--file', file, '--listen', `127.0.0.1:${port}`]);
    const url = `http://127.0.0.1:${port}/configs/agent-http`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-hotswap-version')).toBe('1');
    const etag = first.headers.get('etag')!;
    expect(await first.json()).toEqual({ v: 1 });
    expect((await fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const waiting = fetch(`${url}?wait=30`, { headers: { 'if-none-match': etag } });
    const d = await startDeployment(a, { profileName: 'agent-http', version: 2, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
    const changed = await waiting;
    expect(changed.status).toBe(200);
    expect(changed.headers.get('x-hotswap-version')).toBe('2');
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(await changed.json()).toEqual({ v: 2 });
    expect((await waitForDeployment(a, d.id, 20_000)).status).toBe('COMPLETED');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 60_000);
});
