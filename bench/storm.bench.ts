/**
 * `npm run bench:storm`: a reconnect storm after a replica restart. N
 * registered instances hold a configUpdates subscription each (bench/storm-clients.ts,
 * at least two client processes, reconnecting with a backoff of 100 ms … 1 s);
 * the only replica is killed (SIGKILL) and a new one starts on the same port,
 * database and Redis, as a restarted replica would. Timed from the moment the
 * new replica listens: when each instance is subscribed again and has been
 * sent its assigned version (version 1), p50 / p90 / p99 / last.
 * Env: DATABASE_URL (admin URL), REDIS_URL, BENCH_STORM_SIZES (default 1000,10000),
 * BENCH_STORM_CPU_PROFILE_DIR (a CPU profile of the new replica, from when it listens to the end of the storm,
 * through bench/fanout-server-hook.mjs),
 * BENCH_FANOUT_CONNECT_CONCURRENCY (200: connections set up at once before the storm),
 * BENCH_FANOUT_CLIENT_PROCS (2).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { type ServiceProcess, spawnService } from '../test/support/process.js';
import { CONCURRENCY, procsFor, split } from './fanout-rounds.js';
import { registerFleet, seedProfile } from './fanout-setup.js';
import { adminSql, cleanUpAll, cleanUpOnSignals, cleanups, forkWorker, percentile, round, sizedConfig, waitForFile, withTimeout } from './fanout-support.js';
import type { FromStorm, ToStorm } from './storm-clients.js';

const SIZES = (process.env.BENCH_STORM_SIZES ?? '1000,10000').split(',').map((s) => Number(s.trim()));
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = randomBytes(32).toString('hex');
const DATABASE = `hotswap_storm_${process.pid}`;
const PREFIX = `bench-storm-${process.pid}:`;
const SETTLE_TIMEOUT_MS = 120_000;
const log = (text: string) => process.stderr.write(`[storm] ${text}\n`);
const is = <E extends FromStorm['evt']>(evt: E) => (m: FromStorm): m is Extract<FromStorm, { evt: E }> => m.evt === evt;

cleanUpOnSignals(log);

const PROFILE_DIR = process.env.BENCH_STORM_CPU_PROFILE_DIR ? path.resolve(process.env.BENCH_STORM_CPU_PROFILE_DIR) : undefined;
if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });

function startServer(dbUrl: string, port: number, profiled = false): ServiceProcess {
  const server = spawnService({
    ...(profiled && PROFILE_DIR && {
      NODE_OPTIONS: `--import ${path.join(import.meta.dirname, 'fanout-server-hook.mjs')}`, FANOUT_HOOK_DIR: PROFILE_DIR, FANOUT_CPU_PROFILE: '1',
    }),
    DATABASE_URL: dbUrl, REDIS_URL, JWT_SECRET: SECRET, PORT: String(port), HOST: '127.0.0.1', RATE_LIMIT_PER_SECOND: '0',
    HOTSWAP_MAX_SUBSCRIPTIONS_PER_CALLER: '1000000', HOTSWAP_HEARTBEAT_INTERVAL_MS: '3600000', HOTSWAP_REDIS_PREFIX: PREFIX, LOG_LEVEL: 'info',
  });
  const hardKill = () => server.child.kill('SIGKILL');
  process.once('exit', hardKill);
  cleanups.push(async () => {
    hardKill();
    process.off('exit', hardKill);
  });
  return server;
}

async function storm(n: number): Promise<Record<string, number | string>> {
  await adminSql(ADMIN_URL, `drop database if exists ${DATABASE} with (force)`);
  await adminSql(ADMIN_URL, `create database ${DATABASE}`);
  cleanups.push(() => adminSql(ADMIN_URL, `drop database if exists ${DATABASE} with (force)`));
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${DATABASE}`;
  const first = startServer(dbUrl.toString(), 0);
  const [, url] = await first.waitFor(/"url":"([^"]+)"/, 60_000);
  const port = Number(new URL(url!).port);
  const service = `storm-${n}`;
  const seeded = await seedProfile(url!, SECRET, { name: 'storm', service, profile: service, config: sizedConfig(1) });
  const instances = await registerFleet(seeded, n, 'storm');

  const parts = split(instances, procsFor(n));
  const workers = parts.map(() => forkWorker<ToStorm, FromStorm>('storm-clients.ts', SETTLE_TIMEOUT_MS));
  cleanups.push(() => Promise.all(workers.map((w) => (w.send({ cmd: 'close' }), w.kill()))));
  await Promise.all(workers.map((w) => w.next(is('ready'), 30_000)));
  workers.forEach((w, i) => w.send({ cmd: 'connect', url: url!.replace(/^http/, 'ws'), clients: parts[i]!, concurrency: Math.ceil(CONCURRENCY / parts.length) }));
  const connected = await Promise.all(workers.map((w) => w.next(is('connected'), SETTLE_TIMEOUT_MS)));
  const failed = connected.reduce((k, c) => k + c.failed, 0);
  if (failed > 0) throw new Error(`${failed} instances could not subscribe: ${connected.find((c) => c.firstError)?.firstError}`);
  log(`N=${n}: ${n} instances subscribed; killing the replica (SIGKILL) and starting another on port ${port}`);

  const killedAt = Date.now();
  await first.kill('SIGKILL');
  const second = startServer(dbUrl.toString(), port, true);
  await second.waitFor(/"url":"([^"]+)"/, 60_000);
  const upAt = Date.now();
  if (PROFILE_DIR) second.child.kill('SIGUSR2'); // starts the profile
  const report = async () => {
    workers.forEach((w) => w.send({ cmd: 'report' }));
    return Promise.all(workers.map((w) => w.next(is('report'), 10_000)));
  };
  let reports = await report();
  const settled = (rs: typeof reports) => rs.every((r) => r.subscribedAt.every((t, i) => t > killedAt && r.versions[i] === 1));
  await withTimeout('the storm to settle', SETTLE_TIMEOUT_MS, (async () => {
    while (!settled(reports)) {
      await new Promise((r) => setTimeout(r, 250));
      reports = await report();
    }
  })());
  const since = reports.flatMap((r) => r.subscribedAt).map((t) => t - upAt).sort((a, b) => a - b);
  const result = {
    N: n,
    'replica down ms': upAt - killedAt,
    'resubscribed p50 ms': round(percentile(since, 50)),
    'p90 ms': round(percentile(since, 90)),
    'p99 ms': round(percentile(since, 99)),
    'last ms': round(since.at(-1)!),
    reconnects: reports.reduce((k, r) => k + r.reconnects, 0),
  };
  log(`N=${n}: all ${n} subscribed again on version 1, the last ${result['last ms']} ms after the new replica listened`);
  if (PROFILE_DIR) {
    second.child.kill('SIGUSR2'); // stops it and writes it
    await waitForFile(path.join(PROFILE_DIR, `server-${second.child.pid}.cpuprofile`), 30_000);
    log(`N=${n}: CPU profile of the new replica in ${PROFILE_DIR}`);
  }
  await cleanUpAll(log);
  return result;
}

async function forgetRedisKeys(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${PREFIX}*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  } finally {
    redis.disconnect();
  }
}

const rows: Array<Record<string, number | string>> = [];
try {
  for (const n of SIZES) rows.push(await storm(n));
} catch (error) {
  log(`failed: ${String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUpAll(log);
  await forgetRedisKeys();
}
console.log('\nReconnect storm after a replica restart (SIGKILL, a new replica on the same port): times from the new replica listening to each instance subscribed again with its assigned version');
console.table(rows);
