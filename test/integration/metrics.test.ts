import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Environment } from '../../src/domain/enums.js';
import { api, type Api, createProfile, ok, publish } from '../support/api.js';
import {
  ackFail,
  ackOk,
  type Behavior,
  type DeploymentShape,
  type Fleet,
  noAck,
  readDeployment,
  type SimInstance,
  startDeployment,
  startFleet,
  waitForDeployment,
} from '../support/fleet.js';
import { startTestServer, TEST_REDIS_PREFIX, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

/**
 * GET /metrics against real servers and simulated instances: the counters and
 * histograms of deployments and acks, the fleet-wide gauges computed from the
 * shared state, and what two replicas on one PostgreSQL and one Redis report.
 */

const PAUSE = 'mutation($id: ID!) { pauseDeployment(id: $id) { id status } }';
const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { id status } }';
const ACTIVE_STATUSES = ['IN_PROGRESS', 'PAUSED', 'PENDING', 'ROLLING_BACK'];

// --- A small parser of the Prometheus text exposition format (0.0.4) ---------

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Scrape {
  status: number;
  contentType: string;
  /** Family name → type, from the `# TYPE` lines. */
  types: Map<string, string>;
  samples: Sample[];
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL_PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

function parseValue(text: string): number {
  // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes "Nan").
  if (/^nan$/i.test(text)) return NaN;
  if (/^[+]?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  const n = Number(text);
  if (Number.isNaN(n)) throw new Error(`not a sample value: ${text}`);
  return n;
}

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return labels;
  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < text.length) {
    const start = LABEL_PAIR.lastIndex;
    const m = LABEL_PAIR.exec(text);
    if (!m) throw new Error(`malformed labels at ${start}: {${text}}`);
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (m[3] === '') break;
  }
  return labels;
}

/** Every `# TYPE` line and every sample line; throws on a line it cannot read. */
function parseExposition(text: string): Pick<Scrape, 'types' | 'samples'> {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (t) types.set(t[1]!, t[2]!);
      else if (!line.startsWith('# HELP ')) throw new Error(`unexpected comment line: ${line}`);
      continue;
    }
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new Error(`unreadable sample line: ${line}`);
    samples.push({ name: m[1]!, labels: parseLabels(m[2]), value: parseValue(m[3]!) });
  }
  return { types, samples };
}

async function scrape(server: TestServer): Promise<Scrape> {
  const res = await fetch(new URL('/metrics', server.url));
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', ...parseExposition(text) };
}

const matches = (s: Sample, name: string, labels: Record<string, string>): boolean =>
  s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/** The samples of `name` whose labels include `labels`. */
function series(s: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return s.samples.filter((x) => matches(x, name, labels));
}

/** The sum of the matching samples; undefined when there is none. */
function value(s: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = series(s, name, labels);
  return found.length === 0 ? undefined : found.reduce((sum, x) => sum + x.value, 0);
}

/** How much the matching samples grew from `before` to `after` (absent counts as 0). */
function delta(before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}): number {
  return (value(after, name, labels) ?? 0) - (value(before, name, labels) ?? 0);
}

/** hotswap_active_deployments as status → value. */
function activeOf(s: Scrape): Record<string, number> {
  return Object.fromEntries(series(s, 'hotswap_active_deployments').map((x) => [x.labels.status!, x.value]));
}

/** The hotswap_registered_instances series of one service as "environment/status" → value. */
function registeredOf(s: Scrape, service: string): Record<string, number> {
  return Object.fromEntries(
    series(s, 'hotswap_registered_instances', { service }).map((x) => [`${x.labels.environment}/${x.labels.status}`, x.value]),
  );
}

const idle = Object.fromEntries(ACTIVE_STATUSES.map((status) => [status, 0]));

// --- Helpers for deployments ----------------------------------------------------

/** Resolves once every instance has an answered ack of `version` (the server counted it before answering). */
async function acked(instances: SimInstance[], version: number): Promise<void> {
  await pollUntil(
    async () => instances.map((i) => i.acks.some((k) => k.version === version)),
    (all) => all.every(Boolean),
    { timeoutMs: 15_000, what: `every instance to ack version ${version}` },
  );
}

describe('GET /metrics of one server', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    // No periodic health checks: a paused canary must stay paused until the test moves it.
    server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
    a = api(server);
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  /** A STAGING profile `name` (service `${name}-svc`) with versions 1 and 2, and a fleet of it. */
  async function setUp(name: string, count: number, behavior?: (i: number) => Behavior): Promise<Fleet> {
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    await publish(a, name, { v: 1 });
    await publish(a, name, { v: 2 });
    const f = await startFleet(a, { service: `${name}-svc`, count, behavior });
    fleets.push(f);
    return f;
  }

  const deploy = async (input: Record<string, unknown>, timeoutMs = 20_000): Promise<DeploymentShape> => {
    const started = await startDeployment(a, { ackTimeoutSeconds: 5, ...input });
    return waitForDeployment(a, started.id, timeoutMs);
  };

  it('serves the text exposition format 0.0.4, every line of which parses', async () => {
    const res = await fetch(new URL('/metrics', server.url));
    expect(res.status).toBe(200);
    const contentType = res.headers.get('content-type') ?? '';
    expect(contentType).toMatch(/^text\/plain\s*;/);
    expect(contentType).toMatch(/version=0\.0\.4/);
    const { types, samples } = parseExposition(await res.text());
    expect(types.size).toBeGreaterThan(10);
    expect(samples.length).toBeGreaterThan(10);
  });

  it('exports the default process metrics of prom-client, unprefixed', async () => {
    const s = await scrape(server);
    expect(s.types.get('process_cpu_seconds_total')).toBe('counter');
    expect(s.types.get('process_resident_memory_bytes')).toBe('gauge');
    expect(s.types.get('process_start_time_seconds')).toBe('gauge');
    expect(s.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(value(s, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value(s, 'process_start_time_seconds')).toBeGreaterThan(Date.parse('2020-01-01') / 1000);
    expect(value(s, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect([...s.types.keys()].filter((n) => n.startsWith('hotswap_process') || n.startsWith('hotswap_nodejs'))).toEqual([]);
  });

  it('declares every metric family of the contract with its type', async () => {
    const s = await scrape(server);
    const expected = {
      hotswap_deployments_started_total: 'counter',
      hotswap_deployments_completed_total: 'counter',
      hotswap_deployments_failed_total: 'counter',
      hotswap_deployments_rolledback_total: 'counter',
      hotswap_deployment_duration_seconds: 'histogram',
      hotswap_config_reload_duration_seconds: 'histogram',
      hotswap_config_push_latency_seconds: 'histogram',
      hotswap_active_deployments: 'gauge',
      hotswap_registered_instances: 'gauge',
      hotswap_subscribers: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) expect(s.types.get(name), name).toBe(type);
  });

  it('reports every active status of hotswap_active_deployments, with 0 when nothing runs', async () => {
    const s = await scrape(server);
    expect(series(s, 'hotswap_active_deployments').map((x) => x.labels.status).sort()).toEqual(ACTIVE_STATUSES);
    expect(activeOf(s)).toEqual(idle);
  });

  it('counts each started DIRECT deployment under strategy and environment, then its completion and duration', async () => {
    const f = await setUp('m-direct', 2);
    const labels = { strategy: 'DIRECT', environment: 'STAGING' };
    const duration = { ...labels, status: 'COMPLETED' };
    const before = await scrape(server);

    const first = await startDeployment(a, { profileName: 'm-direct', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 5 });
    // Counted when startDeployment answers, whatever happens next.
    expect(delta(before, await scrape(server), 'hotswap_deployments_started_total', labels)).toBe(1);
    expect((await waitForDeployment(a, first.id)).status).toBe('COMPLETED');
    expect((await deploy({ profileName: 'm-direct', version: 2, strategy: 'DIRECT' })).status).toBe('COMPLETED');
    await acked(f.instances, 2);

    const after = await scrape(server);
    expect(delta(before, after, 'hotswap_deployments_started_total', labels)).toBe(2);
    expect(delta(before, after, 'hotswap_deployments_completed_total', labels)).toBe(2);
    expect(delta(before, after, 'hotswap_deployments_failed_total')).toBe(0);
    expect(delta(before, after, 'hotswap_deployments_rolledback_total')).toBe(0);
    expect(delta(before, after, 'hotswap_deployments_started_total', { ...labels, environment: 'PRODUCTION' })).toBe(0);
    expect(delta(before, after, 'hotswap_deployment_duration_seconds_count', duration)).toBe(2);
    expect(delta(before, after, 'hotswap_deployment_duration_seconds_sum', duration)).toBeGreaterThan(0);
    expect(value(after, 'hotswap_deployment_duration_seconds_bucket', { ...duration, le: '+Inf' })).toBe(
      value(after, 'hotswap_deployment_duration_seconds_count', duration),
    );
  });

  it('counts a DIRECT deployment that fails on an ack as failed, with a FAILED duration', async () => {
    const f = await setUp('m-fail', 2, (i) => (i === 0 ? ackOk(20) : ackFail('boom')));
    const labels = { strategy: 'DIRECT', environment: 'STAGING' };
    const before = await scrape(server);
    const d = await deploy({ profileName: 'm-fail', version: 1, strategy: 'DIRECT' });
    expect(d.status).toBe('FAILED');
    await acked(f.instances, 1);

    const after = await scrape(server);
    expect(delta(before, after, 'hotswap_deployments_started_total', labels)).toBe(1);
    expect(delta(before, after, 'hotswap_deployments_failed_total', labels)).toBe(1);
    expect(delta(before, after, 'hotswap_deployments_completed_total')).toBe(0);
    expect(delta(before, after, 'hotswap_deployments_rolledback_total')).toBe(0);
    expect(delta(before, after, 'hotswap_deployment_duration_seconds_count', { ...labels, status: 'FAILED' })).toBe(1);
    expect(delta(before, after, 'hotswap_deployment_duration_seconds_count', { status: 'COMPLETED' })).toBe(0);
    // Only the successful ack has a reload time.
    expect(delta(before, after, 'hotswap_config_reload_duration_seconds_count')).toBe(1);
    expect(delta(before, after, 'hotswap_config_reload_duration_seconds_sum')).toBeCloseTo(0.02, 9);
  });

  it('counts a canary that rolls back after an ack failure in phase 1 as rolled back, under strategy CANARY', async () => {
    // Version 1 applies everywhere; version 2 fails wherever it is pushed (phase 1 only: the rollback stops there).
    const f = await setUp('m-canary', 2, () => (u) => (u.version === 2 ? { success: false, error: 'v2 is broken' } : { success: true, reloadMs: 3 }));
    expect((await deploy({ profileName: 'm-canary', version: 1, strategy: 'DIRECT' })).status).toBe('COMPLETED');
    const labels = { strategy: 'CANARY', environment: 'STAGING' };
    const before = await scrape(server);

    const d = await deploy({ profileName: 'm-canary', version: 2, strategy: 'CANARY', canary: { phases: [0.5, 1.0], bakeSeconds: 1 } });
    expect(d.status).toBe('ROLLED_BACK');
    expect(f.instances.filter((i) => i.received.some((r) => r.update.version === 2))).toHaveLength(1);

    const after = await scrape(server);
    expect(delta(before, after, 'hotswap_deployments_started_total', labels)).toBe(1);
    expect(delta(before, after, 'hotswap_deployments_rolledback_total', labels)).toBe(1);
    expect(delta(before, after, 'hotswap_deployments_rolledback_total', { strategy: 'DIRECT' })).toBe(0);
    expect(delta(before, after, 'hotswap_deployments_failed_total')).toBe(0);
    expect(delta(before, after, 'hotswap_deployments_completed_total')).toBe(0);
    expect(delta(before, after, 'hotswap_deployment_duration_seconds_count', { ...labels, status: 'ROLLED_BACK' })).toBe(1);
    expect(delta(before, after, 'hotswap_deployment_duration_seconds_sum', { ...labels, status: 'ROLLED_BACK' })).toBeGreaterThan(0);
  });

  it('observes the reload time of every successful ack in hotswap_config_reload_duration_seconds (seconds)', async () => {
    const reloadMs = [12.5, 40, 250];
    const f = await setUp('m-reload', 3, (i) => ackOk(reloadMs[i]));
    const before = await scrape(server);
    expect((await deploy({ profileName: 'm-reload', version: 1, strategy: 'DIRECT' })).status).toBe('COMPLETED');
    await acked(f.instances, 1);

    const after = await scrape(server);
    expect(delta(before, after, 'hotswap_config_reload_duration_seconds_count')).toBe(3);
    expect(delta(before, after, 'hotswap_config_reload_duration_seconds_sum')).toBeCloseTo(0.3025, 9);
    // 12.5 ms is under the 0.025 s bucket, 40 ms under 0.05 s, 250 ms under 0.25 s (buckets are cumulative).
    expect(delta(before, after, 'hotswap_config_reload_duration_seconds_bucket', { le: '0.025' })).toBe(1);
    expect(delta(before, after, 'hotswap_config_reload_duration_seconds_bucket', { le: '0.05' })).toBe(2);
    expect(delta(before, after, 'hotswap_config_reload_duration_seconds_bucket', { le: '0.25' })).toBe(3);
    expect(delta(before, after, 'hotswap_config_reload_duration_seconds_bucket', { le: '+Inf' })).toBe(3);
  });

  it('observes the push latency of a deployment in hotswap_config_push_latency_seconds', async () => {
    const f = await setUp('m-push', 2);
    const before = await scrape(server);
    expect((await deploy({ profileName: 'm-push', version: 1, strategy: 'DIRECT' })).status).toBe('COMPLETED');
    await acked(f.instances, 1);

    const after = await scrape(server);
    expect(delta(before, after, 'hotswap_config_push_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    const pushes = delta(before, after, 'hotswap_config_push_latency_seconds_count');
    // In seconds, not milliseconds: on one machine each push reaches its subscribers well within a second.
    expect(delta(before, after, 'hotswap_config_push_latency_seconds_sum')).toBeGreaterThanOrEqual(0);
    expect(delta(before, after, 'hotswap_config_push_latency_seconds_sum')).toBeLessThan(pushes);
    expect(value(after, 'hotswap_config_push_latency_seconds_bucket', { le: '+Inf' })).toBe(value(after, 'hotswap_config_push_latency_seconds_count'));
    expect(series(after, 'hotswap_config_push_latency_seconds_count').map((x) => x.labels)).toEqual([{}]);
  });

  it('reports a paused canary under PAUSED in hotswap_active_deployments, and 0 again once it ended', async () => {
    await setUp('m-pause', 2);
    expect((await deploy({ profileName: 'm-pause', version: 1, strategy: 'DIRECT' })).status).toBe('COMPLETED');
    const started = await startDeployment(a, {
      profileName: 'm-pause',
      version: 2,
      strategy: 'CANARY',
      canary: { phases: [0.5, 1.0], bakeSeconds: 60 },
      ackTimeoutSeconds: 5,
    });
    await pollUntil(
      () => readDeployment(a, started.id),
      (d) => d !== null && d.events.some((e) => e.type === 'PHASE_COMPLETED' && e.phase === 1),
      { timeoutMs: 15_000, what: 'phase 1 to be acked (the long bake to start)' },
    );
    expect(activeOf(await scrape(server))).toEqual({ ...idle, IN_PROGRESS: 1 });

    expect(ok(await a.gql<{ pauseDeployment: { status: string } }>(PAUSE, { id: started.id })).pauseDeployment.status).toBe('PAUSED');
    expect(activeOf(await scrape(server))).toEqual({ ...idle, PAUSED: 1 });

    ok(await a.gql(ROLLBACK, { id: started.id, r: 'metrics test' }));
    expect((await waitForDeployment(a, started.id, 20_000)).status).toBe('ROLLED_BACK');
    expect(activeOf(await scrape(server))).toEqual(idle);
  }, 40_000);
});

describe('GET /metrics: instances and subscribers (Redis registry)', () => {
  let server: TestServer;
  let a: Api;
  let steady: Fleet;
  let leaving: Fleet;
  let elsewhere: Fleet;
  const service = 'reg-svc';

  beforeAll(async () => {
    server = await startTestServer({
      REDIS_URL: inject('redisUrl'),
      HOTSWAP_REDIS_PREFIX: `${TEST_REDIS_PREFIX}instances:`,
      // The reaper marks an instance STALE after 3 missed beats: 600 ms.
      HOTSWAP_HEARTBEAT_INTERVAL_MS: '200',
    });
    a = api(server);
    steady = await startFleet(a, { service, count: 3 });
    steady.keepAlive(100);
    leaving = await startFleet(a, { service, count: 2 });
    leaving.keepAlive(100);
    elsewhere = await startFleet(a, { service: 'reg-other', environment: Environment.DEVELOPMENT, count: 1 });
    elsewhere.keepAlive(100);
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled([steady, leaving, elsewhere].map((f) => f?.stop()));
    await server?.stop();
  });

  it('reports the registered instances by service, environment and status: HEALTHY equals the fleet', async () => {
    const s = await scrape(server);
    expect(registeredOf(s, service)).toEqual({ 'STAGING/HEALTHY': 5 });
    expect(registeredOf(s, 'reg-other')).toEqual({ 'DEVELOPMENT/HEALTHY': 1 });
    for (const x of series(s, 'hotswap_registered_instances')) expect(Object.keys(x.labels).sort()).toEqual(['environment', 'service', 'status']);
  });

  it('counts the open configUpdates subscriptions in hotswap_subscribers', async () => {
    const s = await pollUntil(() => scrape(server), (x) => value(x, 'hotswap_subscribers') === 6, {
      timeoutMs: 10_000,
      what: 'hotswap_subscribers to count the 6 subscriptions',
    });
    expect(series(s, 'hotswap_subscribers').map((x) => x.labels)).toEqual([{}]);
  });

  it('reports instances that stopped heartbeating under STALE, and hotswap_subscribers drops as they close', async () => {
    await leaving.stop();
    const s = await pollUntil(
      () => scrape(server),
      (x) => registeredOf(x, service)['STAGING/STALE'] === 2 && value(x, 'hotswap_subscribers') === 4,
      { timeoutMs: 10_000, what: 'the 2 silent instances to be STALE and their subscriptions gone' },
    );
    expect(registeredOf(s, service)).toEqual({ 'STAGING/HEALTHY': 3, 'STAGING/STALE': 2 });
    expect(registeredOf(s, 'reg-other')).toEqual({ 'DEVELOPMENT/HEALTHY': 1 });
  });
});

describe('GET /metrics of two replicas on one PostgreSQL and one Redis', () => {
  let s1: TestServer;
  let s2: TestServer;
  let on1: Fleet;
  let on2: Fleet;
  const service = 'twin-svc';
  const profileName = 'twin';
  let beforeDeploy: [Scrape, Scrape];
  let deployment: DeploymentShape;

  beforeAll(async () => {
    const env = {
      REDIS_URL: inject('redisUrl'),
      HOTSWAP_REDIS_PREFIX: `${TEST_REDIS_PREFIX}replicas:`,
      HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000',
    };
    s1 = await startTestServer(env);
    // The second replica uses the first one's database (its own fresh one stays unused).
    s2 = await startTestServer({ ...env, DATABASE_URL: s1.db.url });
    const a1 = api(s1);
    await createProfile(a1, profileName, { service, environment: Environment.STAGING });
    await publish(a1, profileName, { v: 1 });
    // Acked by hand, each through the replica it is connected to.
    on1 = await startFleet(a1, { service, count: 2, behavior: () => noAck });
    on2 = await startFleet(api(s2), { service, count: 1, behavior: () => noAck });
  }, 60_000);
  afterAll(async () => {
    await Promise.allSettled([on1, on2].map((f) => f?.stop()));
    await s2?.stop();
    await s1?.stop();
  });

  it('both report the same fleet-wide hotswap_registered_instances, and each its own hotswap_subscribers', async () => {
    const [m1, m2] = await Promise.all([
      pollUntil(() => scrape(s1), (x) => value(x, 'hotswap_subscribers') === 2, { timeoutMs: 10_000, what: 'replica 1 to count 2 subscribers' }),
      pollUntil(() => scrape(s2), (x) => value(x, 'hotswap_subscribers') === 1, { timeoutMs: 10_000, what: 'replica 2 to count 1 subscriber' }),
    ]);
    expect(registeredOf(m1, service)).toEqual({ 'STAGING/HEALTHY': 3 });
    expect(registeredOf(m2, service)).toEqual({ 'STAGING/HEALTHY': 3 });
    beforeDeploy = [m1, m2];
  });

  it('both report the same hotswap_active_deployments while a deployment runs, and 0 once it ended', async () => {
    const a1 = api(s1);
    const started = await startDeployment(a1, { profileName, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 30 });
    const everyone = [...on1.instances, ...on2.instances];
    await Promise.all(everyone.map((i) => i.waitForUpdate((u) => u.deploymentId === started.id, 15_000)));
    const running = await pollUntil(() => scrape(s1), (x) => activeOf(x).IN_PROGRESS === 1, {
      timeoutMs: 10_000,
      what: 'replica 1 to report the deployment IN_PROGRESS',
    });
    expect(activeOf(running)).toEqual({ ...idle, IN_PROGRESS: 1 });
    expect(activeOf(await scrape(s2))).toEqual({ ...idle, IN_PROGRESS: 1 });

    const reloads = [10, 20, 30];
    await Promise.all(
      everyone.map(async (i, n) => {
        const update = await i.waitForUpdate((u) => u.deploymentId === started.id);
        ok(await i.ack(update, { success: true, reloadMs: reloads[n] }));
      }),
    );
    deployment = await waitForDeployment(a1, started.id, 20_000);
    expect(deployment.status).toBe('COMPLETED');
    expect(activeOf(await scrape(s1))).toEqual(idle);
    expect(activeOf(await scrape(s2))).toEqual(idle);
  }, 40_000);

  it('counts a deployment once across the replicas: started where it was asked, ended where it ran', async () => {
    expect(deployment?.status).toBe('COMPLETED');
    const [b1, b2] = beforeDeploy;
    const [m1, m2] = await Promise.all([scrape(s1), scrape(s2)]);
    const labels = { strategy: 'DIRECT', environment: 'STAGING' };
    expect([delta(b1, m1, 'hotswap_deployments_started_total', labels), delta(b2, m2, 'hotswap_deployments_started_total', labels)]).toEqual([1, 0]);
    const completed = [delta(b1, m1, 'hotswap_deployments_completed_total', labels), delta(b2, m2, 'hotswap_deployments_completed_total', labels)];
    expect([...completed].sort()).toEqual([0, 1]);
    // The duration is observed by the replica that counted the completion.
    const durationLabels = { ...labels, status: 'COMPLETED' };
    expect([delta(b1, m1, 'hotswap_deployment_duration_seconds_count', durationLabels), delta(b2, m2, 'hotswap_deployment_duration_seconds_count', durationLabels)]).toEqual(completed);
    // The acks were counted by the replica each instance reported to: 2 on the first (10 + 20 ms), 1 on the second (30 ms).
    expect(delta(b1, m1, 'hotswap_config_reload_duration_seconds_count')).toBe(2);
    expect(delta(b1, m1, 'hotswap_config_reload_duration_seconds_sum')).toBeCloseTo(0.03, 9);
    expect(delta(b2, m2, 'hotswap_config_reload_duration_seconds_count')).toBe(1);
    expect(delta(b2, m2, 'hotswap_config_reload_duration_seconds_sum')).toBeCloseTo(0.03, 9);
    // Both replicas had subscribers of the pushed service, so both handed the push to them.
    expect(delta(b1, m1, 'hotswap_config_push_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(delta(b2, m2, 'hotswap_config_push_latency_seconds_count')).toBeGreaterThanOrEqual(1);
  });
});
