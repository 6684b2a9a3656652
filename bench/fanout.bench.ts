/**
 * `npx tsx bench/fanout.bench.ts` (npm run bench:fanout): push fan-out to N
 * graphql-ws subscribers. Per N: a fresh database and server process (with Redis,
 * so RedisPubSub is on the path), N registered instances subscribed from a client
 * process, then a DIRECT deployment to all N per round (a new version to the
 * same fleet each round); timed from just before the startDeployment mutation.
 * A bare `ws` broadcast to N clients, as many rounds, is the floor. "server last write" is
 * the server's last websocket send of the push (recorded by bench/fanout-server-hook.mjs),
 * to set beside the floor's own send loop: apart from when the client process reads it.
 * Env: DATABASE_URL (admin URL), REDIS_URL, BENCH_FANOUT_SIZES (default 1000,5000,10000),
 * BENCH_FANOUT_ACK (ws|http), BENCH_FANOUT_CLIENT (raw: the graphql-ws protocol by hand, one JSON.parse per message as
 * the floor's clients; library: graphql-ws's client), BENCH_FANOUT_CONNECT_CONCURRENCY (200), BENCH_FANOUT_CLIENT_PROCS (1),
 * BENCH_FANOUT_ROUNDS (3 deployments per N, and 3 floor broadcasts: the table shows medians), BENCH_FANOUT_TIMEOUT_MS (180000 per phase), BENCH_FANOUT_CPU_PROFILE_DIR (a server CPU profile of round 1's push
 * window, t0 to COMPLETED, a round counted like the others though the profiler slows it: bench/fanout-server-hook.mjs, which also reports the heap after a full GC),
 * BENCH_FANOUT_SERVER_NODE_OPTIONS (added to the server's NODE_OPTIONS, e.g. --max-semi-space-size=64).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintToken } from '../src/auth/tokens.js';
import { Environment, Role } from '../src/domain/enums.js';
import { type ServiceProcess, spawnService } from '../test/support/process.js';
import type { FromFloor, ToFloor } from './fanout-floor.js';
import { activateVersion1, completedAt, PUBLISH, REGISTER, type Registered, START, timeline } from './fanout-setup.js';
import {
  adminSql, cleanups, cleanUpAll, cleanUpOnSignals, type Creds, FD_RESERVE, forkWorker, type FromWorker, gql, heapAfterGcMiB, mapLimit, median, now, openFileLimit, percentile, round, rssMiB,
  sampleConfig, serverSends, type ToWorker, waitForFile, withTimeout, type Worker,
} from './fanout-support.js';

const SIZES = (process.env.BENCH_FANOUT_SIZES ?? '1000,5000,10000').split(',').map((s) => Number(s.trim()));
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ACK: 'ws' | 'http' = process.env.BENCH_FANOUT_ACK === 'http' ? 'http' : 'ws';
const CLIENT: 'raw' | 'library' = process.env.BENCH_FANOUT_CLIENT === 'library' ? 'library' : 'raw';
const CONCURRENCY = Number(process.env.BENCH_FANOUT_CONNECT_CONCURRENCY ?? 200);
const CLIENT_PROCS = Number(process.env.BENCH_FANOUT_CLIENT_PROCS ?? 1);
const TIMEOUT_MS = Number(process.env.BENCH_FANOUT_TIMEOUT_MS ?? 180_000);
const ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS ?? 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_FANOUT_ROUNDS: "${process.env.BENCH_FANOUT_ROUNDS}" is not a whole number ≥ 1`);
const PROFILE_DIR = process.env.BENCH_FANOUT_CPU_PROFILE_DIR ? path.resolve(process.env.BENCH_FANOUT_CPU_PROFILE_DIR) : undefined;
const SECRET = randomBytes(32).toString('hex');
const DATABASE = `hotswap_fanout_${process.pid}`;
const ENV = Environment.STAGING;

type ClientWorker = Worker<ToWorker, FromWorker>;
/** One timed deployment to the subscribed fleet. */
interface Round {
  completedMs: number;
  /** When the server wrote the last message of the push (its last websocket send before the last receive). */
  lastWriteMs: number;
  received: number[];
  acked: number[];
  missing: number;
  ackFailures: number;
}
const is = <E extends FromWorker['evt']>(evt: E) => (m: FromWorker): m is Extract<FromWorker, { evt: E }> => m.evt === evt;
const log = (text: string) => process.stderr.write(`[fanout] ${text}\n`);
const range = (xs: number[]) => `${round(Math.min(...xs))}–${round(Math.max(...xs))}`;

cleanUpOnSignals(log);
const cleanUp = () => cleanUpAll(log);
const admin = (sql: string) => adminSql(ADMIN_URL, sql);

function split<T>(items: T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size)).filter((p) => p.length > 0);
}

/** Forks one client worker per message, then times connect (+ subscribe) of all of them. */
async function connectClients(messages: ToWorker[]): Promise<{ workers: ClientWorker[]; ms: number }> {
  const workers = messages.map(() => forkWorker<ToWorker, FromWorker>('fanout-clients.ts', TIMEOUT_MS));
  cleanups.push(() => Promise.all(workers.map((w) => (w.send({ cmd: 'close' }), w.kill()))));
  await Promise.all(workers.map((w) => w.next(is('ready'), 30_000)));
  const t = now();
  workers.forEach((w, i) => w.send(messages[i]!));
  const results = await Promise.all(workers.map((w) => w.next(is('connected'), TIMEOUT_MS)));
  const ms = now() - t;
  const failed = results.reduce((n, r) => n + r.failed, 0);
  if (failed !== 0) throw new Error(`${failed} connections failed; first error: ${results.find((r) => r.firstError)?.firstError}`);
  return { workers, ms };
}

/** Arms the workers for `version`, runs `trigger` (t0 just before it), and collects every receive and ack. */
async function fire(workers: ClientWorker[], version: number, trigger: () => Promise<unknown>) {
  workers.forEach((w) => w.send({ cmd: 'expect', version, timeoutMs: TIMEOUT_MS }));
  await Promise.all(workers.map((w) => w.next(is('armed'), 10_000)));
  const done = Promise.all(workers.map((w) => w.next(is('done'), TIMEOUT_MS + 10_000)));
  const t0 = now();
  await trigger();
  const results = await done;
  const rel = (xs: number[]) => xs.filter((x) => !Number.isNaN(x)).map((x) => x - t0).sort((a, b) => a - b);
  const received = rel(results.flatMap((r) => r.received));
  const acked = rel(results.flatMap((r) => r.acked));
  const expected = results.reduce((n, r) => n + r.received.length, 0);
  const ackFailures = results.reduce((n, r) => n + r.ackFailures, 0);
  const firstError = results.find((r) => r.firstError)?.firstError ?? null;
  if (received.length < expected) log(`only ${received.length} of ${expected} clients received version ${version}`);
  if (ackFailures > 0) log(`${ackFailures} acks failed; first error: ${firstError}`);
  return { t0, received, acked, missing: expected - received.length, ackFailures };
}

async function measureHotSwap(n: number) {
  await admin(`drop database if exists ${DATABASE} with (force)`);
  await admin(`create database ${DATABASE}`);
  cleanups.push(() => admin(`drop database if exists ${DATABASE} with (force)`));
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${DATABASE}`;
  if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
  const hookDir = PROFILE_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'hotswap-fanout-'));
  if (!PROFILE_DIR) cleanups.push(async () => rmSync(hookDir, { recursive: true, force: true }));
  const server: ServiceProcess = spawnService({
    DATABASE_URL: dbUrl.toString(), REDIS_URL, JWT_SECRET: SECRET, PORT: '0', HOST: '127.0.0.1', RATE_LIMIT_PER_SECOND: '0',
    HOTSWAP_MAX_SUBSCRIPTIONS_PER_CALLER: '1000000', HOTSWAP_HEARTBEAT_INTERVAL_MS: '3600000', LOG_LEVEL: 'info',
    NODE_OPTIONS: `--expose-gc --import ${path.join(import.meta.dirname, 'fanout-server-hook.mjs')} ${process.env.BENCH_FANOUT_SERVER_NODE_OPTIONS ?? ''}`.trim(),
    FANOUT_HOOK_DIR: hookDir, FANOUT_CPU_PROFILE: PROFILE_DIR ? '1' : '0',
  });
  const hardKill = () => server.child.kill('SIGKILL');
  process.once('exit', hardKill);
  cleanups.push(async () => {
    await withTimeout('server exit', 20_000, server.kill('SIGTERM')).catch(() => server.kill('SIGKILL'));
    process.off('exit', hardKill);
  });
  try {
    const [, url] = await server.waitFor(/"url":"([^"]+)"/, 60_000);
    const pid = server.child.pid!;
    const adminToken = await mintToken(SECRET, { sub: 'fanout-bench', role: Role.ADMIN, expiresInSeconds: 3600 });
    const service = `fanout-${process.pid}-${n}`;
    const profile = `fanout-${n}`;
    const registrar = await mintToken(SECRET, { sub: 'fanout-registrar', role: Role.INSTANCE, service, environment: ENV, expiresInSeconds: 3600 });
    const register = async (host: string): Promise<Creds> => {
      const r = await gql<Registered>(url!, registrar, REGISTER, { s: service, e: ENV, h: host });
      return { id: r.registerInstance.instance.id, token: r.registerInstance.token };
    };
    await gql(url!, adminToken, 'mutation($n: String!, $s: String!) { createProfile(input: { name: $n, service: $s, environment: STAGING }) { id } }', { n: profile, s: service });
    await gql(url!, adminToken, PUBLISH, { p: profile, d: sampleConfig(1) });
    await activateVersion1(url!, adminToken, profile, register);

    const t = now();
    const instances = await mapLimit(Array.from({ length: n }, (_, i) => i), 50, (i) => register(`bench-${i}`));
    log(`N=${n}: registered ${n} instances in ${round((now() - t) / 1000, 1)} s`);
    // Leave no instance behind in the shared Redis registry.
    cleanups.push(() => withTimeout('deregistering', 120_000, mapLimit(instances, 50, (c) =>
      gql(url!, c.token, 'mutation($id: ID!) { deregisterInstance(id: $id) }', { id: c.id }).catch(() => undefined))));

    const rssBefore = rssMiB(pid);
    const heapBefore = await heapAfterGcMiB(pid, hookDir);
    const procs = Math.max(CLIENT_PROCS, Math.ceil(n / (openFileLimit() - FD_RESERVE)));
    const { workers, ms: connectMs } = await connectClients(
      split(instances, procs).map((clients) => ({ cmd: 'connect', mode: 'hotswap', url: url!, clients, concurrency: Math.ceil(CONCURRENCY / procs), ack: ACK, client: CLIENT, profileName: profile })),
    );
    const rssAfter = rssMiB(pid);
    const heapAfter = await heapAfterGcMiB(pid, hookDir);
    log(`N=${n}: ${n} subscribed in ${round(connectMs / 1000, 2)} s; server RSS ${round(rssBefore)} → ${round(rssAfter)} MiB, ` +
      `heap after full GC ${round(heapBefore)} → ${round(heapAfter)} MiB`);

    const rounds: Round[] = [];
    for (let k = 1; k <= ROUNDS; k++) {
      const version = k + 1;
      const config = sampleConfig(version);
      await gql(url!, adminToken, PUBLISH, { p: profile, d: config });
      // The CPU profile covers the first round.
      const profiled = PROFILE_DIR !== undefined && k === 1;
      if (profiled) {
        process.kill(pid, 'SIGUSR2');
        await new Promise((r) => setTimeout(r, 500));
      }
      let completed: Promise<number> | undefined;
      let deploymentId = '';
      let answered = 0;
      await serverSends(pid, hookDir); // sends so far: not this round's
      const r = await fire(workers, version, async () => {
        const { startDeployment } = await gql<{ startDeployment: { id: string } }>(url!, adminToken, START, { p: profile, v: version, c: n });
        answered = now();
        deploymentId = startDeployment.id;
        completed = completedAt(url!, adminToken, deploymentId, TIMEOUT_MS);
        completed.catch(() => undefined);
      });
      const completedMs = (await completed!) - r.t0;
      // A push's messages are the sends longer than its config's JSON (a follower's events are shorter),
      // before the last receive (the acks' answers come after it: the simulated instances ack once all received).
      const lastReceiveAt = r.t0 + (r.received.at(-1) ?? Number.NaN);
      const pushBytes = JSON.stringify(config).length;
      const pushWrites = (await serverSends(pid, hookDir)).filter(([t, bytes]) => t >= r.t0 && t <= lastReceiveAt && bytes > pushBytes);
      const lastWriteMs = Math.max(...pushWrites.map(([t]) => t)) - r.t0;
      if (pushWrites.length !== n) log(`N=${n} round ${k}: ${pushWrites.length} push writes seen for ${n} instances`);
      const steps: Record<string, number | undefined> = {
        ...(await timeline(dbUrl.toString(), deploymentId, r.t0)), 'startDeployment answered': answered - r.t0,
        'server last write': lastWriteMs, 'first receive': r.received[0], 'last receive': r.received.at(-1), 'last ack answered': r.acked.at(-1), 'COMPLETED seen': completedMs,
      };
      const { 'ack batches': batches, ...times } = steps;
      const ordered = Object.entries(times).sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0));
      log(`N=${n} round ${k}: from t0 (ms): ${ordered.map(([step, v]) => `${step} ${round(v ?? Number.NaN)}`).join(' → ')}; ${batches} ack batches`);
      if (profiled) {
        const file = path.join(PROFILE_DIR, `server-${pid}.cpuprofile`);
        process.kill(pid, 'SIGUSR2');
        await waitForFile(file);
        log(`N=${n}: server CPU profile of t0 → COMPLETED (round 1) in ${file}`);
      }
      rounds.push({ completedMs, lastWriteMs, received: r.received, acked: r.acked, missing: r.missing, ackFailures: r.ackFailures });
    }
    return { connectS: connectMs / 1000, rssBefore, rssAfter, heapBefore, heapAfter, rounds };
  } catch (error) {
    log(`server output (tail):\n${server.output().slice(-3000)}`);
    throw error;
  }
}

async function measureFloor(n: number) {
  const floor = forkWorker<ToFloor, FromFloor>('fanout-floor.ts');
  cleanups.push(() => (floor.send({ cmd: 'close' }), floor.kill()));
  const { url } = await floor.next((m): m is Extract<FromFloor, { evt: 'listening' }> => m.evt === 'listening', 30_000);
  const procs = Math.max(CLIENT_PROCS, Math.ceil(n / (openFileLimit() - FD_RESERVE)));
  const rssBefore = rssMiB(floor.child.pid!);
  const { workers } = await connectClients(
    split(Array.from({ length: n }, (_, i) => i), procs).map((part) => ({ cmd: 'connect', mode: 'floor', url, count: part.length, concurrency: Math.ceil(CONCURRENCY / procs) })),
  );
  const rss = rssMiB(floor.child.pid!);
  const rounds: Array<{ received: number[]; missing: number; loopMs: number }> = [];
  for (let k = 1; k <= ROUNDS; k++) {
    const version = k + 1;
    const message = {
      id: '1', type: 'next',
      payload: { data: { configUpdates: { profileName: `fanout-${n}`, version, hash: 'f'.repeat(64), data: sampleConfig(version), deploymentId: randomUUID() } } },
    };
    const r = await fire(workers, version, async () => floor.send({ cmd: 'broadcast', payload: JSON.stringify(message) }));
    const sent = await floor.next((m): m is Extract<FromFloor, { evt: 'sent' }> => m.evt === 'sent', 10_000);
    log(`N=${n} round ${k}: floor last receive ${round(r.received.at(-1) ?? Number.NaN, 1)} ms; its broadcast loop took ${round(sent.ms, 1)} ms for ${sent.clients} clients`);
    rounds.push({ received: r.received, missing: r.missing, loopMs: sent.ms });
  }
  return { rounds, rssPerThousand: ((rss - rssBefore) / n) * 1000 };
}

async function main(): Promise<void> {
  const limit = openFileLimit();
  log(`ulimit -n is ${limit}; acks over ${ACK}; ${CLIENT} graphql-ws clients; sizes ${SIZES.join(', ')}`);
  const rows: Array<Record<string, number | string>> = [];
  for (const n of SIZES) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_FANOUT_SIZES: "${n}" is not a positive whole number`);
    if (n + FD_RESERVE > limit) {
      const message = `N=${n} does not fit: the server process needs ~${n + FD_RESERVE} open files, ulimit -n is ${limit}. ` +
        'Raise it in the shell that runs the bench (`ulimit -n 65536`, which needs the hard limit raised: root, ' +
        '/etc/security/limits.conf, systemd LimitNOFILE or `docker run --ulimit nofile=65536:65536`).';
      log(message);
      rows.push({ N: n, note: 'skipped: ulimit -n too low' });
      continue;
    }
    try {
      const h = await measureHotSwap(n);
      await cleanUp();
      const f = await measureFloor(n);
      await cleanUp();
      // Medians over the rounds; the range of the last receive shows how much a run varies here.
      const of = <R>(rounds: R[], pick: (r: R) => number | undefined) => rounds.map((r) => pick(r) ?? Number.NaN);
      const last = of(h.rounds, (r) => r.received.at(-1));
      const floorLast = of(f.rounds, (r) => r.received.at(-1));
      const missing = h.rounds.reduce((m, r) => m + r.missing, 0);
      const floorMissing = f.rounds.reduce((m, r) => m + r.missing, 0);
      const ackFailures = h.rounds.reduce((m, r) => m + r.ackFailures, 0);
      const row = {
        N: n,
        rounds: ROUNDS,
        'connect+subscribe s': round(h.connectS, 2),
        'first receive ms': round(median(of(h.rounds, (r) => r.received[0]))),
        'last receive ms': round(median(last)),
        'last receive range': range(last),
        'server last write ms': round(median(of(h.rounds, (r) => r.lastWriteMs))),
        'p50 ms': round(median(of(h.rounds, (r) => percentile(r.received, 50)))),
        'p99 ms': round(median(of(h.rounds, (r) => percentile(r.received, 99)))),
        'last ack ms': round(median(of(h.rounds, (r) => r.acked.at(-1)))),
        'completed ms': round(median(of(h.rounds, (r) => r.completedMs))),
        'RSS MiB/1000 subs': round(((h.rssAfter - h.rssBefore) / n) * 1000, 1),
        'heap MiB/1000 (after GC)': round(((h.heapAfter - h.heapBefore) / n) * 1000, 1),
        'floor ms': round(median(floorLast), 1),
        'floor range': range(floorLast),
        'floor loop ms': round(median(of(f.rounds, (r) => r.loopMs)), 1),
        'floor p50 ms': round(median(of(f.rounds, (r) => percentile(r.received, 50))), 1),
        'floor RSS MiB/1000': round(f.rssPerThousand, 1),
        'last/floor': round(median(last) / median(floorLast), 1),
        ...(missing + floorMissing + ackFailures > 0 ? { note: `missing ${missing}, floor missing ${floorMissing}, ack failures ${ackFailures}` } : {}),
      };
      console.table([row]);
      rows.push(row);
    } catch (error) {
      log(`N=${n} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      rows.push({ N: n, note: `failed: ${error instanceof Error ? error.message.slice(0, 120) : String(error)}` });
      await cleanUp();
    }
  }
  console.log(`\nHotSwap fan-out benchmark: DIRECT deployments of a ~2 KB config to N graphql-ws subscribers (Redis pub/sub, acks over ${ACK}), medians of ${ROUNDS} rounds; times from just before startDeployment\n`);
  console.table(rows);
}

try {
  await main();
} finally {
  await cleanUp();
}
