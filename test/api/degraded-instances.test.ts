import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api, type Api, ok } from '../support/api.js';
import { type Fleet, HEALTHY, type SimInstance, startDeployment, startFleet } from '../support/fleet.js';
import { DEREGISTER, type InstanceShape, LIST } from '../support/instances.js';
import { DEGRADED, profileWithVersions, startAndWait } from '../support/progressive.js';
import { startTestServer, TEST_REDIS_PREFIX, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

/**
 * An outlier of a failed canary is DEGRADED (instances, the deployment's
 * targets, /metrics) and HEALTHY again once its own heartbeats recover, never
 * without metrics; the verdict metrics of the dashboard follow the deployment.
 * Real PostgreSQL and the Redis registry, instances over HTTP and websockets.
 */

const TARGETS = 'query($id: ID!) { deployment(id: $id) { status targets { instanceId phase instanceStatus } } }';
const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { status } }';

interface Targets {
  status: string;
  targets: Array<{ instanceId: string; phase: number; instanceStatus: string | null }>;
}

/** The value of the /metrics sample `name` whose labels include `labels`; undefined when there is none. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const own = Object.fromEntries([...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => own[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('DEGRADED instances of a failed canary, and their recovery (Redis registry)', () => {
  let server: TestServer;
  let a: Api;
  let f: Fleet;
  const name = 'degraded-canary';
  const service = `${name}-svc`;
  /** How each instance reports: bad on version 2 until healed; silent sends heartbeats without metrics. */
  const healed = new Set<string>();
  const silent = new Set<string>();
  let deploymentId: string;
  let outliers: string[];
  let others: string[];

  const targetsOf = async (): Promise<Targets> => ok(await a.gql<{ deployment: Targets }>(TARGETS, { id: deploymentId })).deployment;
  const statusOf = (t: Targets): Record<string, string | null> => Object.fromEntries(t.targets.map((x) => [x.instanceId, x.instanceStatus]));
  const listed = async (status: string): Promise<string[]> =>
    ok(await a.gql<{ instances: InstanceShape[] }>(LIST, { service, status })).instances.map((i) => i.id).sort();
  const metrics = async (): Promise<string> => (await fetch(new URL('/metrics', server.url))).text();
  const gotVersion2 = (i: SimInstance) => i.received.some((r) => r.update.version === 2);

  beforeAll(async () => {
    server = await startTestServer({
      REDIS_URL: inject('redisUrl'),
      HOTSWAP_REDIS_PREFIX: `${TEST_REDIS_PREFIX}degraded:`,
      // Recovery looks every heartbeat interval; the instances beat every 100 ms (STALE after 3 intervals: 900 ms).
      HOTSWAP_HEARTBEAT_INTERVAL_MS: '300',
      // No periodic check of the paused canary: only its phase-end verdict marks instances.
      HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000',
    });
    a = api(server);
    await profileWithVersions(a, name, 2);
    f = await startFleet(a, { service, count: 4 });
    expect((await startAndWait(a, { profileName: name, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 })).status).toBe('COMPLETED');
    f.reportMetrics(100, (i) => (silent.has(i.id) ? null : gotVersion2(i) && !healed.has(i.id) ? DEGRADED : HEALTHY));
    await new Promise((r) => setTimeout(r, 400));

    const started = await startDeployment(a, {
      profileName: name,
      version: 2,
      strategy: 'CANARY',
      canary: { phases: [0.5, 1.0], bakeSeconds: 1 },
      ackTimeoutSeconds: 5,
      health: { autoRollback: false },
    });
    deploymentId = started.id;
    const paused = await pollUntil(targetsOf, (d) => d.status !== 'IN_PROGRESS' && d.status !== 'PENDING', { timeoutMs: 20_000, what: 'the canary to pause on its verdict' });
    expect(paused.status).toBe('PAUSED');
    outliers = paused.targets.filter((t) => t.phase === 1).map((t) => t.instanceId).sort();
    others = paused.targets.filter((t) => t.phase !== 1).map((t) => t.instanceId).sort();
    expect([outliers.length, others.length]).toEqual([2, 2]);
  }, 60_000);
  afterAll(async () => {
    await f?.stop();
    await server?.stop();
  });

  it('lists the outliers under instances(status: DEGRADED), and only them', async () => {
    expect(await listed('DEGRADED')).toEqual(outliers);
    expect(await listed('HEALTHY')).toEqual(others);
  });

  it('shows each target\'s instanceStatus in the deployment: DEGRADED for the outliers, HEALTHY for the rest', async () => {
    const t = await targetsOf();
    expect(statusOf(t)).toEqual(Object.fromEntries([...outliers.map((id) => [id, 'DEGRADED']), ...others.map((id) => [id, 'HEALTHY'])]));
  });

  it('reports the DEGRADED instances, the FAIL verdict and the paused canary\'s latest verdict on /metrics', async () => {
    const text = await metrics();
    expect(sample(text, 'hotswap_registered_instances', { service, environment: 'STAGING', status: 'DEGRADED' })).toBe(2);
    expect(sample(text, 'hotswap_registered_instances', { service, environment: 'STAGING', status: 'HEALTHY' })).toBe(2);
    expect(sample(text, 'hotswap_health_verdicts_total', { verdict: 'FAIL', environment: 'STAGING' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hotswap_health_verdicts_total', { verdict: 'FAIL', environment: 'PRODUCTION' })).toBe(0);
    expect(sample(text, 'hotswap_deployment_health_verdict', { deployment_id: deploymentId })).toBe(-1);
    expect(sample(text, 'hotswap_deployment_health_verdict', { deployment_id: deploymentId, profile: name, environment: 'STAGING' })).toBe(-1);
  });

  it('drops the deployment\'s verdict series once it ended', async () => {
    ok(await a.gql(ROLLBACK, { id: deploymentId, r: 'outliers' }));
    await pollUntil(targetsOf, (d) => d.status === 'ROLLED_BACK', { timeoutMs: 15_000, what: 'the rollback' });
    const text = await metrics();
    expect(sample(text, 'hotswap_deployment_health_verdict', { deployment_id: deploymentId })).toBeUndefined();
    expect(text).toMatch(/^# TYPE hotswap_deployment_health_verdict gauge$/m);
  });

  it('sets an outlier HEALTHY again once its heartbeats recover, and keeps one that sends no metrics DEGRADED', async () => {
    const [recovering, quiet] = outliers as [string, string];
    // Back on version 1 both would look healthy: one now reports so, the other heartbeats without metrics.
    silent.add(quiet);
    healed.add(recovering);
    const t = await pollUntil(targetsOf, (x) => statusOf(x)[recovering] === 'HEALTHY', { timeoutMs: 10_000, what: `${recovering} to be HEALTHY again` });
    expect(statusOf(t)[quiet]).toBe('DEGRADED');
    expect(await listed('DEGRADED')).toEqual([quiet]);
    // Still DEGRADED many recovery runs (300 ms apart) later, heartbeating all along.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await listed('DEGRADED')).toEqual([quiet]);
    expect(sample(await metrics(), 'hotswap_registered_instances', { service, environment: 'STAGING', status: 'DEGRADED' })).toBe(1);

    // Metrics again, healthy ones: it recovers too.
    silent.delete(quiet);
    healed.add(quiet);
    const all = [...outliers, ...others].sort();
    await pollUntil(() => listed('HEALTHY'), (ids) => ids.join() === all.join(), { timeoutMs: 10_000, what: `${quiet} to be HEALTHY again` });
    expect(sample(await metrics(), 'hotswap_registered_instances', { service, environment: 'STAGING', status: 'DEGRADED' })).toBeUndefined();
  });

  it('shows a null instanceStatus for a target that is gone', async () => {
    const [gone] = others as [string];
    expect(ok(await a.gql<{ deregisterInstance: boolean }>(DEREGISTER, { id: gone })).deregisterInstance).toBe(true);
    const t = await targetsOf();
    expect(statusOf(t)[gone]).toBeNull();
    expect(Object.values(statusOf(t)).filter((s) => s === 'HEALTHY')).toHaveLength(3);
  });
});
