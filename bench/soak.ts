/**
 * `npm run test:soak` (by hand, not in CI): a bounded soak of one server process.
 * A fresh database and a server (Redis keys under its own `soak:<pid>:` prefix,
 * loopback only), SOAK_INSTANCES instances (colors alternate BLUE/GREEN) registered
 * and subscribed from client worker processes (bench/soak-clients.ts): one
 * graphql-ws connection each, acking every update and heartbeating every
 * SOAK_HEARTBEAT_MS over it, spread evenly over the interval. One deployment of a
 * newly published version every SOAK_DEPLOY_EVERY_S, cycling DIRECT, CANARY,
 * ROLLING, BLUE_GREEN, each awaited to its end (a deployment still running at the
 * next tick delays the next one). Every SOAK_SAMPLE_S: the server's RSS, its
 * event-loop lag (prom-client's gauges on /metrics, reset at each scrape, so each
 * sample covers its window), the heartbeats and acks of the window, subscribers.
 * Prints the samples, the deployments and a verdict; exits 1 on FAIL: a
 * deployment not COMPLETED, the RSS floor (the lowest sample: where RSS drops
 * back after a GC) of the second half above the first half's by more than
 * 25 MiB or 10%, event-loop lag p99 more than doubling (and by > 5 ms) from the
 * first to the last third, or a subscription lost.
 * Env: DATABASE_URL (admin URL), REDIS_URL, SOAK_INSTANCES (5000), SOAK_MINUTES (10), SOAK_HEARTBEAT_MS (2000),
 * SOAK_DEPLOY_EVERY_S (60), SOAK_SAMPLE_S (10), SOAK_CLIENT_PROCS (default 2 from 2,500 instances, more if
 * `ulimit -n` requires). Hard timeout: SOAK_MINUTES + 5 minutes, cleanups always run.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { mintToken } from '../src/auth/tokens.js';
import { Environment, Role } from '../src/domain/enums.js';
import { type ServiceProcess, spawnService } from '../test/support/process.js';
import { activateVersion1, PUBLISH, REGISTER, type Registered, statusReached } from './fanout-setup.js';
import {
  adminSql, cleanups, cleanUpAll, cleanUpOnSignals, type Creds, FD_RESERVE, forkWorker, gql, mapLimit, now, openFileLimit, percentile, round, rssMiB,
  sampleConfig, withTimeout, type Worker,
} from './fanout-support.js';
import type { FromSoak, ToSoak, WindowStats } from './soak-clients.js';

function envNumber(name: string, dflt: number, min: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw.trim() === '' ? dflt : Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got "${raw}"`);
  return n;
}

const INSTANCES = Math.round(envNumber('SOAK_INSTANCES', 5000, 1));
const MINUTES = envNumber('SOAK_MINUTES', 10, 0.5);
const HEARTBEAT_MS = Math.round(envNumber('SOAK_HEARTBEAT_MS', 2000, 100));
const DEPLOY_EVERY_S = envNumber('SOAK_DEPLOY_EVERY_S', 60, 1);
const SAMPLE_S = envNumber('SOAK_SAMPLE_S', 10, 1);
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = randomBytes(32).toString('hex');
const DATABASE = `hotswap_soak_${process.pid}`;
// Not under `test:`: the test suites' global teardown deletes `test:*` keys (other runs may end mid-soak).
const REDIS_PREFIX = `soak:${process.pid}:`;
const ENV = Environment.STAGING;
const SERVICE = `soak-${process.pid}`;
const PROFILE = `soak-${process.pid}`;
const STARTED_AT = Date.now();
const HARD_TIMEOUT_MS = (MINUTES + 5) * 60_000;
/** Deployments and set-up must be over by then, leaving a minute for the cleanups. */
const DEADLINE = STARTED_AT + HARD_TIMEOUT_MS - 60_000;
const ACK_TIMEOUT_S = 120;

/** Thresholds of the verdict. */
/** The RSS floor (lowest sample, after a GC) of the second half may exceed the first half's by at most this much. */
const MAX_FLOOR_GROWTH_MIB = 25;
const MAX_FLOOR_GROWTH_SHARE = 0.1;
/** Samples of the first minute (start-up, first allocations) do not count for the floor. */
const WARM_UP_S = 60;
const MAX_LAG_GROWTH = 2; // last third / first third of lag p99
const MIN_LAG_GROWTH_MS = 5; // below this absolute growth, lag is noise (monitorEventLoopDelay resolution is 10 ms)

const STRATEGIES = [
  { strategy: 'DIRECT', direct: { maxConcurrency: INSTANCES } },
  { strategy: 'CANARY', canary: { phases: [0.1, 0.5, 1], bakeSeconds: 5 } },
  { strategy: 'ROLLING', rolling: { batchPercent: 25, intervalSeconds: 2 } },
  { strategy: 'BLUE_GREEN', blueGreen: { verifySeconds: 5 } },
] as const;
const START = 'mutation($input: StartDeploymentInput!) { startDeployment(input: $input) { id } }';
const DEPLOYMENT = 'query($id: ID!) { deployment(id: $id) { status failureReason } }';

type ClientWorker = Worker<ToSoak, FromSoak>;
const is = <E extends FromSoak['evt']>(evt: E) => (m: FromSoak): m is Extract<FromSoak, { evt: E }> => m.evt === evt;
const log = (text: string) => process.stderr.write(`[soak] ${text}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const remaining = () => Math.max(1000, DEADLINE - Date.now());

cleanUpOnSignals(log);
const cleanUp = () => cleanUpAll(log);
const admin = (sql: string) => adminSql(ADMIN_URL, sql);

interface Sample {
  t: number;
  rss: number;
  lagP99: number;
  lagMax: number;
  subscribers: number;
  stale: number;
  stats: WindowStats;
  windowS: number;
  deploying: string;
}

interface DeploymentRow {
  n: number;
  strategy: string;
  version: number;
  status: string;
  durationS: number;
  startedAtS: number;
  lateS: number;
  reason: string | null;
}

// ---- /metrics -----------------------------------------------------------------------------------

/** Sum of the samples of `name` whose labels contain every `labels` pair; NaN when there is none. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = Number.NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum = (Number.isNaN(sum) ? 0 : sum) + value;
  }
  return sum;
}

async function scrape(metricsUrl: string): Promise<{ lagP99: number; lagMax: number; subscribers: number; stale: number }> {
  const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const text = await res.text();
  const lagP99 = metric(text, 'nodejs_eventloop_lag_p99_seconds');
  return {
    // nodejs_eventloop_lag_seconds (one setImmediate delay) when the histogram gauges are missing.
    lagP99: (Number.isNaN(lagP99) ? metric(text, 'nodejs_eventloop_lag_seconds') : lagP99) * 1000,
    lagMax: metric(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
    subscribers: metric(text, 'hotswap_subscribers'),
    stale: metric(text, 'hotswap_registered_instances', { service: SERVICE, status: 'STALE' }) || 0,
  };
}

// ---- statistics ---------------------------------------------------------------------------------

/** Least-squares slope of y over x; NaN with fewer than 2 points. */
function slope(points: Array<[number, number]>): number {
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length < 2) return Number.NaN;
  const mx = pts.reduce((s, [x]) => s + x, 0) / pts.length;
  const my = pts.reduce((s, [, y]) => s + y, 0) / pts.length;
  const sxx = pts.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? Number.NaN : pts.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
}

const mean = (xs: number[]): number => {
  const ys = xs.filter(Number.isFinite);
  return ys.length === 0 ? Number.NaN : ys.reduce((a, b) => a + b, 0) / ys.length;
};

/** Means of the first and last thirds of the samples (by time). */
function thirds(samples: Sample[], value: (s: Sample) => number): { first: number; last: number } {
  const end = samples.at(-1)?.t ?? 0;
  return {
    first: mean(samples.filter((s) => s.t <= end / 3).map(value)),
    last: mean(samples.filter((s) => s.t > (2 * end) / 3).map(value)),
  };
}

// ---- the run ------------------------------------------------------------------------------------

function split(total: number, parts: number): Array<{ first: number; count: number }> {
  const size = Math.ceil(total / parts);
  return Array.from({ length: parts }, (_, i) => ({ first: i * size, count: Math.max(0, Math.min(size, total - i * size)) })).filter((p) => p.count > 0);
}

async function deleteRedisKeys(): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function startServer(): Promise<{ server: ServiceProcess; url: string }> {
  await admin(`drop database if exists ${DATABASE} with (force)`);
  await admin(`create database ${DATABASE}`);
  cleanups.push(() => deleteRedisKeys());
  cleanups.push(() => admin(`drop database if exists ${DATABASE} with (force)`));
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${DATABASE}`;
  const server = spawnService({
    DATABASE_URL: dbUrl.toString(), REDIS_URL, JWT_SECRET: SECRET, PORT: '0', HOST: '127.0.0.1', RATE_LIMIT_PER_SECOND: '0',
    HOTSWAP_MAX_SUBSCRIPTIONS_PER_CALLER: '1000000', HOTSWAP_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
    HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '10000', HOTSWAP_REDIS_PREFIX: REDIS_PREFIX, LOG_LEVEL: 'info',
  });
  const hardKill = () => server.child.kill('SIGKILL');
  process.once('exit', hardKill);
  cleanups.push(async () => {
    await withTimeout('server exit', 20_000, server.kill('SIGTERM')).catch(() => server.kill('SIGKILL'));
    process.off('exit', hardKill);
  });
  try {
    const [, url] = await server.waitFor(/"url":"([^"]+)"/, 60_000);
    return { server, url: url! };
  } catch (error) {
    log(`server output (tail):\n${server.output().slice(-3000)}`);
    throw error;
  }
}

/** Forks the client workers; each registers, subscribes and starts heartbeating its share of the fleet. */
async function startFleet(url: string, procs: number): Promise<{ workers: ClientWorker[]; creds: Creds[] }> {
  const registrar = await mintToken(SECRET, {
    sub: 'soak-registrar', role: Role.INSTANCE, service: SERVICE, environment: ENV, expiresInSeconds: Math.ceil(HARD_TIMEOUT_MS / 1000) + 3600,
  });
  const creds: Creds[] = [];
  const workers = split(INSTANCES, procs).map(() => forkWorker<ToSoak, FromSoak>('soak-clients.ts'));
  // Newest first: the workers close (heartbeats stop), then every instance is deregistered while the server is up.
  cleanups.push(() => withTimeout('deregistering', 120_000, mapLimit(creds, 50, (c) =>
    gql(url, c.token, 'mutation($id: ID!) { deregisterInstance(id: $id) }', { id: c.id }).catch(() => undefined))));
  cleanups.push(() => Promise.all(workers.map((w) => {
    if (w.child.connected) w.send({ cmd: 'close' });
    return w.kill();
  })));
  await Promise.all(workers.map((w) => w.next(is('ready'), 30_000)));
  const t = now();
  split(INSTANCES, procs).forEach((part, i) => workers[i]!.send({
    cmd: 'start', url, registrar, service: SERVICE, environment: ENV, first: part.first, count: part.count, total: INSTANCES,
    heartbeatMs: HEARTBEAT_MS, concurrency: Math.max(1, Math.ceil(50 / procs)),
  }));
  const results = await Promise.all(workers.map((w) => w.next(is('started'), remaining())));
  for (const r of results) creds.push(...r.creds);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  if (failed !== 0) throw new Error(`${failed} instances could not register or subscribe; first error: ${results.find((r) => r.firstError)?.firstError}`);
  log(`${INSTANCES} instances registered, subscribed and heartbeating in ${round((now() - t) / 1000, 1)} s (${workers.length} client processes)`);
  return { workers, creds };
}

async function collectStats(workers: ClientWorker[]): Promise<WindowStats> {
  const all = await Promise.all(workers.map(async (w) => {
    w.send({ cmd: 'stats' });
    return (await w.next(is('stats'), 30_000)).stats;
  }));
  const sum = (f: (s: WindowStats) => number) => all.reduce((n, s) => n + f(s), 0);
  return {
    lost: sum((s) => s.lost), hbOk: sum((s) => s.hbOk), hbFailed: sum((s) => s.hbFailed),
    hbSkipped: sum((s) => s.hbSkipped), hbMs: all.flatMap((s) => s.hbMs).sort((a, b) => a - b),
    acksOk: sum((s) => s.acksOk), acksFailed: sum((s) => s.acksFailed), errors: [...new Set(all.flatMap((s) => s.errors))].slice(0, 5),
  };
}

/** One deployment per tick, strategies in turn, each awaited to its end. */
async function runDeployments(url: string, adminToken: string, t0: number, endAt: number, current: { label: string }): Promise<DeploymentRow[]> {
  const rows: DeploymentRow[] = [];
  for (let k = 0; ; k++) {
    const tick = t0 + k * DEPLOY_EVERY_S * 1000;
    if (tick >= endAt || Date.now() >= DEADLINE) break;
    await sleep(tick - now());
    const options = STRATEGIES[k % STRATEGIES.length]!;
    const { publishVersion } = await gql<{ publishVersion: { version: number } }>(url, adminToken, PUBLISH, { p: PROFILE, d: sampleConfig(k + 2) });
    const version = publishVersion.version;
    const started = now();
    const row: DeploymentRow = {
      n: k + 1, strategy: options.strategy, version, status: 'NOT STARTED', durationS: Number.NaN,
      startedAtS: (started - t0) / 1000, lateS: Math.max(0, started - tick) / 1000, reason: null,
    };
    rows.push(row);
    current.label = `#${row.n} ${options.strategy}`;
    try {
      const { startDeployment } = await gql<{ startDeployment: { id: string } }>(url, adminToken, START, {
        input: { profileName: PROFILE, version, ackTimeoutSeconds: ACK_TIMEOUT_S, ...options },
      });
      try {
        const ended = await statusReached(url, adminToken, startDeployment.id, 'COMPLETED', remaining());
        row.status = 'COMPLETED';
        row.durationS = (ended - started) / 1000;
      } catch (error) {
        row.durationS = (now() - started) / 1000;
        const { deployment } = await gql<{ deployment: { status: string; failureReason: string | null } }>(url, adminToken, DEPLOYMENT, { id: startDeployment.id });
        row.status = deployment.status;
        row.reason = deployment.failureReason ?? (error instanceof Error ? error.message : String(error));
      }
    } catch (error) {
      row.reason = error instanceof Error ? error.message : String(error);
    }
    current.label = '';
    log(`deployment #${row.n} ${row.strategy} v${row.version}: ${row.status} in ${round(row.durationS, 1)} s${row.reason ? ` (${row.reason})` : ''}`);
  }
  return rows;
}

function report(samples: Sample[], deployments: DeploymentRow[]): boolean {
  console.log(`\nHotSwap soak: ${INSTANCES} graphql-ws instances heartbeating every ${HEARTBEAT_MS} ms and acking over the websocket, ` +
    `a deployment every ${DEPLOY_EVERY_S} s, ${MINUTES} min, samples every ${SAMPLE_S} s (one server process)\n`);
  console.table(samples.map((s) => ({
    't s': round(s.t),
    'RSS MiB': round(s.rss, 1),
    'lag p99 ms': round(s.lagP99, 1),
    'lag max ms': round(s.lagMax, 1),
    'heartbeats/s': round(s.stats.hbOk / s.windowS),
    'hb p99 ms': round(percentile(s.stats.hbMs, 99), 1),
    errors: s.stats.hbFailed + s.stats.acksFailed,
    'hb skipped': s.stats.hbSkipped,
    acks: s.stats.acksOk,
    subscribers: s.subscribers,
    stale: s.stale,
    lost: s.stats.lost,
    deploying: s.deploying,
  })));
  console.table(deployments.map((d) => ({
    n: d.n, strategy: d.strategy, version: d.version, status: d.status, 'duration s': round(d.durationS, 1),
    'started at s': round(d.startedAtS), 'late s': round(d.lateS, 1), ...(d.reason ? { reason: d.reason.slice(0, 120) } : {}),
  })));
  const errors = [...new Set(samples.flatMap((s) => s.stats.errors))];
  if (errors.length > 0) console.log(`errors seen by the clients (first few): ${errors.slice(0, 5).join(' | ')}`);

  const end = samples.at(-1)?.t ?? 0;
  const secondHalf = samples.filter((s) => s.t >= end / 2);
  // RSS is a sawtooth (the heap grows until V8 collects): a leak shows in the floor it drops back to, not in where a sample lands.
  const rssSlope = slope(secondHalf.map((s) => [s.t / 60, s.rss]));
  const rss = thirds(samples, (s) => s.rss);
  const floorOf = (from: number, to: number) => Math.min(...samples.filter((s) => s.t > from && s.t <= to).map((s) => s.rss));
  const floorFirst = floorOf(WARM_UP_S, end / 2);
  const floorLast = floorOf(end / 2, end);
  const floorGrowth = floorLast - floorFirst;
  const lagSlope = slope(secondHalf.map((s) => [s.t / 60, s.lagP99]));
  const lag = thirds(samples, (s) => s.lagP99);
  const lost = samples.at(-1)?.stats.lost ?? 0;
  const notCompleted = deployments.filter((d) => d.status !== 'COMPLETED');
  const checks: Array<[boolean, string]> = [
    [deployments.length > 0 && notCompleted.length === 0,
      `every deployment COMPLETED: ${deployments.length - notCompleted.length}/${deployments.length}` +
      (notCompleted.length > 0 ? ` (not: ${notCompleted.map((d) => `#${d.n} ${d.strategy} ${d.status}`).join(', ')})` : '')],
    [!(floorGrowth > Math.max(MAX_FLOOR_GROWTH_MIB, floorFirst * MAX_FLOOR_GROWTH_SHARE)),
      `RSS floor (lowest sample, after GC) first half ${round(floorFirst, 1)} → second half ${round(floorLast, 1)} MiB ` +
      `(limit +${MAX_FLOOR_GROWTH_MIB} MiB or +${MAX_FLOOR_GROWTH_SHARE * 100}%); for reference: slope over the second half ` +
      `${round(rssSlope, 2)} MiB/min, first/last third means ${round(rss.first, 1)} → ${round(rss.last, 1)} MiB`],
    [!(lag.last > MAX_LAG_GROWTH * lag.first && lag.last - lag.first > MIN_LAG_GROWTH_MS),
      `event-loop lag p99, first/last third means ${round(lag.first, 1)} → ${round(lag.last, 1)} ms (limit ×${MAX_LAG_GROWTH} and +${MIN_LAG_GROWTH_MS} ms); ` +
      `trend over the second half ${round(lagSlope, 2)} ms/min`],
    [lost === 0, `subscriptions lost: ${lost}`],
  ];
  console.log('');
  for (const [ok, text] of checks) console.log(`${ok ? 'PASS' : 'FAIL'} ${text}`);
  const totals = samples.reduce((t, s) => ({
    hb: t.hb + s.stats.hbOk, hbFailed: t.hbFailed + s.stats.hbFailed, skipped: t.skipped + s.stats.hbSkipped, acksFailed: t.acksFailed + s.stats.acksFailed,
  }), { hb: 0, hbFailed: 0, skipped: 0, acksFailed: 0 });
  const maxStale = Math.max(0, ...samples.map((s) => s.stale));
  const info = `heartbeats answered ${totals.hb}, failed ${totals.hbFailed}, skipped (previous one unanswered) ${totals.skipped}; ` +
    `acks failed ${totals.acksFailed}; most STALE instances in a sample ${maxStale}`;
  console.log(`${totals.hbFailed + totals.skipped + totals.acksFailed + maxStale > 0 ? 'WARN' : 'INFO'} ${info}`);
  const pass = checks.every(([ok]) => ok);
  console.log(pass ? '\nSOAK PASS' : '\nSOAK FAIL');
  return pass;
}

async function main(): Promise<boolean> {
  const limit = openFileLimit();
  if (INSTANCES + FD_RESERVE > limit) {
    throw new Error(`${INSTANCES} instances do not fit: the server process needs ~${INSTANCES + FD_RESERVE} open files, ulimit -n is ${limit}. ` +
      'Raise it in the shell that runs the soak (`ulimit -n 65536`, which needs the hard limit raised: root, ' +
      '/etc/security/limits.conf, systemd LimitNOFILE or `docker run --ulimit nofile=65536:65536`), or lower SOAK_INSTANCES.');
  }
  const procs = Math.max(
    Math.round(envNumber('SOAK_CLIENT_PROCS', INSTANCES >= 2500 ? 2 : 1, 1)),
    Math.ceil(INSTANCES / (limit - FD_RESERVE)),
  );
  log(`ulimit -n is ${limit}; ${INSTANCES} instances over ${procs} client processes; ${MINUTES} min; hard timeout ${MINUTES + 5} min`);

  const { server, url } = await startServer();
  const pid = server.child.pid!;
  const metricsUrl = new URL('/metrics', url).toString();
  const adminToken = await mintToken(SECRET, { sub: 'soak', role: Role.ADMIN, expiresInSeconds: Math.ceil(HARD_TIMEOUT_MS / 1000) + 3600 });
  const seedRegistrar = await mintToken(SECRET, { sub: 'soak-seed', role: Role.INSTANCE, service: SERVICE, environment: ENV, expiresInSeconds: 3600 });
  await gql(url, adminToken, 'mutation($n: String!, $s: String!) { createProfile(input: { name: $n, service: $s, environment: STAGING }) { id } }', { n: PROFILE, s: SERVICE });
  await gql(url, adminToken, PUBLISH, { p: PROFILE, d: sampleConfig(1) });
  await activateVersion1(url, adminToken, PROFILE, async (host) => {
    const r = await gql<Registered>(url, seedRegistrar, REGISTER, { s: SERVICE, e: ENV, h: host });
    return { id: r.registerInstance.instance.id, token: r.registerInstance.token };
  });
  const { workers } = await startFleet(url, procs);

  // Start of the measured run: reset the lag histogram and the clients' window counters.
  await scrape(metricsUrl);
  await collectStats(workers);
  const t0 = now();
  const endAt = t0 + MINUTES * 60_000;
  let last = t0;
  const samples: Sample[] = [];
  const current = { label: '' };
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const sampling = (async () => {
    for (let k = 1; ; k++) {
      const wake = await Promise.race([sleep(t0 + k * SAMPLE_S * 1000 - now()).then(() => 'tick' as const), stopped.then(() => 'stop' as const)]);
      if (wake === 'stop') return;
      let sample: Sample;
      try {
        const [m, stats] = await Promise.all([scrape(metricsUrl), collectStats(workers)]);
        const t = now();
        sample = { t: (t - t0) / 1000, rss: rssMiB(pid), ...m, stats, windowS: (t - last) / 1000, deploying: current.label };
        last = t;
        samples.push(sample);
      } catch (error) {
        log(`sample ${k} failed: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      const { stats } = sample;
      log(`t=${round(sample.t)} s: RSS ${round(sample.rss, 1)} MiB, lag p99 ${round(sample.lagP99, 1)} ms, ${round(stats.hbOk / sample.windowS)} heartbeats/s ` +
        `(p99 ${round(percentile(stats.hbMs, 99), 1)} ms, ${stats.hbFailed} failed, ${stats.hbSkipped} skipped), ${stats.acksOk} acks ` +
        `(${stats.acksFailed} failed), ${sample.subscribers} subscribers, ${sample.stale} stale, ${stats.lost} lost${stats.errors[0] ? `; e.g. ${stats.errors[0]}` : ''}`);
    }
  })();
  let deployments: DeploymentRow[];
  try {
    deployments = await runDeployments(url, adminToken, t0, endAt, current);
    await sleep(Math.min(endAt, DEADLINE) - now());
  } finally {
    stop();
  }
  await sampling;
  const pass = report(samples, deployments);
  if (!pass) {
    const warnings = server.output().split('\n').filter((l) => /"level":(40|50|60)/.test(l));
    if (warnings.length > 0) log(`server warnings and errors (last ${Math.min(20, warnings.length)} of ${warnings.length}):\n${warnings.slice(-20).join('\n')}`);
  }
  return pass;
}

const hardTimeout = setTimeout(() => {
  log(`hard timeout (${MINUTES + 5} min): cleaning up`);
  void withTimeout('cleanup', 150_000, cleanUp()).catch((e: unknown) => log(String(e))).finally(() => process.exit(1));
}, HARD_TIMEOUT_MS);

let exitCode = 1;
try {
  exitCode = (await main()) ? 0 : 1;
} catch (error) {
  log(`soak failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
} finally {
  log('cleaning up (closing clients, deregistering instances, stopping the server, dropping the database)');
  await cleanUp();
  clearTimeout(hardTimeout);
}
process.exit(exitCode);
