/**
 * `npx tsx bench/fanout.bench.ts` (npm run bench:fanout): push fan-out to N
 * subscribers, HotSwap against two peers measured in the same run on the same
 * machine, with the same client processes (bench/fanout-clients.ts, at least
 * two), each target's clients as lean as they get (one JSON.parse per message),
 * and the same value: a config of BENCH_FANOUT_VALUE_BYTES (128) bytes of JSON.
 * - HotSwap: per N and ack path, a fresh database and server process (with Redis,
 *   so RedisPubSub is on the path), N registered instances subscribed over
 *   graphql-ws (a websocket each), then a DIRECT deployment of the config to all
 *   N per round (a new version each round), timed from just before the
 *   startDeployment mutation; acks over the websocket and, with another server
 *   and fleet, over HTTP.
 * - a bare `ws` broadcast of the config's bytes (bench/fanout-floor.ts);
 * - a real etcd 3.4 watch (bench/fanout-etcd.ts: Debian's etcd-server, found or
 *   installed), a push being one put of the config. The "etcd" figures are
 *   etcd's best: N gRPC Watch streams on one HTTP/2 connection per client process,
 *   by the hand-written client of bench/fanout-etcd-client.ts (leaner than
 *   @grpc/grpc-js or etcd's JSON gateway, numbers there); "etcd conn/watcher" is
 *   the same client with a connection per watcher, as HotSwap's and the floor's
 *   subscribers have.
 * "server last write" is the server's last websocket send of the push, "loop p99/max" the server's
 * event-loop delay from t0 to COMPLETED (bench/fanout-server-hook.mjs, monitorEventLoopDelay at 1 ms).
 * Env: DATABASE_URL (admin URL), REDIS_URL, ETCD_BIN, BENCH_FANOUT_SIZES (default 1000,5000,10000),
 * BENCH_FANOUT_VALUE_BYTES (128: bytes of the config's JSON, at least ~80; the HotSwap message wraps it in graphql-ws's
 * `next` with the version's metadata, etcd's in a WatchResponse), BENCH_FANOUT_ACK (ws,http),
 * BENCH_FANOUT_CLIENT (raw: the graphql-ws protocol by hand, one JSON.parse per message as
 * the peers' clients; library: graphql-ws's client), BENCH_FANOUT_CONNECT_CONCURRENCY (200), BENCH_FANOUT_CLIENT_PROCS (2, at least 2),
 * BENCH_FANOUT_ROUNDS (3 per target and N: the table shows medians), BENCH_FANOUT_TIMEOUT_MS (180000 per phase), BENCH_FANOUT_CPU_PROFILE_DIR (a server CPU profile of round 1's push
 * window, t0 to COMPLETED, a round counted like the others though the profiler slows it: bench/fanout-server-hook.mjs, which also reports the heap after a full GC),
 * BENCH_FANOUT_SERVER_NODE_OPTIONS (added to the server's NODE_OPTIONS, e.g. --max-semi-space-size=64).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type ServiceProcess, spawnService } from '../test/support/process.js';
import { measureEtcd, measureFloor } from './fanout-peers.js';
import { REPORT_LEGEND, REPORT_TITLE, reportRow } from './fanout-report.js';
import { CLIENT_PROCS, CONCURRENCY, connectClients, fire, log, procsFor, ROUNDS, split, TIMEOUT_MS } from './fanout-rounds.js';
import { completedAt, PUBLISH, registerFleet, seedProfile, START, timeline } from './fanout-setup.js';
import {
  adminSql, cleanups, cleanUpAll, cleanUpOnSignals, FD_RESERVE, gql, heapAfterGcMiB, type LoopDelay, loopDelay, mapLimit, now, openFileLimit,
  round, rssMiB, serverSends, sizedConfig, VALUE_BYTES, waitForFile, withTimeout,
} from './fanout-support.js';

const SIZES = (process.env.BENCH_FANOUT_SIZES ?? '1000,5000,10000').split(',').map((s) => Number(s.trim()));
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Ack paths measured, each with its own server and fleet: over the websocket and over HTTP (docs/PROTOCOL.md allows both). */
const ACKS = (process.env.BENCH_FANOUT_ACK ?? 'ws,http').split(',').map((a) => a.trim());
if (ACKS.some((a) => a !== 'ws' && a !== 'http')) throw new Error(`BENCH_FANOUT_ACK: "${process.env.BENCH_FANOUT_ACK}" is not a list of ws and http`);
const CLIENT: 'raw' | 'library' = process.env.BENCH_FANOUT_CLIENT === 'library' ? 'library' : 'raw';
const PROFILE_DIR = process.env.BENCH_FANOUT_CPU_PROFILE_DIR ? path.resolve(process.env.BENCH_FANOUT_CPU_PROFILE_DIR) : undefined;
const SECRET = randomBytes(32).toString('hex');
const DATABASE = `hotswap_fanout_${process.pid}`;

/** One timed deployment to the subscribed fleet. */
interface Round {
  completedMs: number;
  /** When the server wrote the last message of the push (its last websocket send before the last receive). */
  lastWriteMs: number;
  received: number[];
  acked: number[];
  missing: number;
  ackFailures: number;
  /** The server's event-loop delay from t0 to COMPLETED. */
  loop: LoopDelay;
}

cleanUpOnSignals(log);
const cleanUp = () => cleanUpAll(log);
const admin = (sql: string) => adminSql(ADMIN_URL, sql);

export type HotSwapResult = Awaited<ReturnType<typeof measureHotSwap>>;

async function measureHotSwap(n: number, ack: 'ws' | 'http') {
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
    const service = `fanout-${process.pid}-${n}`;
    const profile = `fanout-${n}`;
    const seeded = await seedProfile(url!, SECRET, { name: 'fanout', service, profile, config: sizedConfig(1) });
    const { adminToken } = seeded;

    const t = now();
    const instances = await registerFleet(seeded, n, 'bench');
    const registerS = (now() - t) / 1000;
    log(`N=${n}: registered ${n} instances in ${round(registerS, 1)} s`);
    // Leave no instance behind in the shared Redis registry.
    cleanups.push(() => withTimeout('deregistering', 120_000, mapLimit(instances, 50, (c) =>
      gql(url!, c.token, 'mutation($id: ID!) { deregisterInstance(id: $id) }', { id: c.id }).catch(() => undefined))));

    // RSS right after a full GC (the hook's), so the registrations' garbage is not counted as the subscribers' memory.
    const heapBefore = await heapAfterGcMiB(pid, hookDir);
    const rssBefore = rssMiB(pid);
    const procs = procsFor(n);
    const { workers, ms: connectMs } = await connectClients(
      split(instances, procs).map((clients) => ({ cmd: 'connect', mode: 'hotswap', url: url!, clients, concurrency: Math.ceil(CONCURRENCY / procs), ack, client: CLIENT, profileName: profile })),
    );
    const heapAfter = await heapAfterGcMiB(pid, hookDir);
    const rssAfter = rssMiB(pid);
    log(`N=${n}: ${n} subscribed in ${round(connectMs / 1000, 2)} s; server RSS ${round(rssBefore)} → ${round(rssAfter)} MiB, ` +
      `heap after full GC ${round(heapBefore)} → ${round(heapAfter)} MiB`);

    const rounds: Round[] = [];
    for (let k = 1; k <= ROUNDS; k++) {
      const version = k + 1;
      const config = sizedConfig(version);
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
        const loopBefore = loopDelay(pid, hookDir); // the window of the event-loop delay starts at t0
        const { startDeployment } = await gql<{ startDeployment: { id: string } }>(url!, adminToken, START, { p: profile, v: version, c: n });
        answered = now();
        deploymentId = startDeployment.id;
        completed = completedAt(url!, adminToken, deploymentId, TIMEOUT_MS);
        completed.catch(() => undefined);
        await loopBefore;
      });
      const completedMs = (await completed!) - r.t0;
      const loop = await loopDelay(pid, hookDir);
      // A push's messages are the configUpdates sends from t0 to the last receive.
      const lastReceiveAt = r.t0 + (r.received.at(-1) ?? Number.NaN);
      const pushWrites = (await serverSends(pid, hookDir)).filter(([t, , push]) => push === 1 && t >= r.t0 && t <= lastReceiveAt);
      const lastWriteMs = Math.max(...pushWrites.map(([t]) => t)) - r.t0;
      if (pushWrites.length !== n) log(`N=${n} round ${k}: ${pushWrites.length} push writes seen for ${n} instances`);
      const steps: Record<string, number | undefined> = {
        ...(await timeline(dbUrl.toString(), deploymentId, r.t0)), 'startDeployment answered': answered - r.t0,
        'server last write': lastWriteMs, 'first receive': r.received[0], 'last receive': r.received.at(-1), 'last ack answered': r.acked.at(-1), 'COMPLETED seen': completedMs,
      };
      const { 'ack batches': batches, ...times } = steps;
      const ordered = Object.entries(times).sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0));
      log(`N=${n} round ${k}: from t0 (ms): ${ordered.map(([step, v]) => `${step} ${round(v ?? Number.NaN)}`).join(' → ')}; ${batches} ack batches; ` +
        `server event-loop delay t0 → COMPLETED p99 ${round(loop.p99, 1)} ms, max ${round(loop.max, 1)} ms (${loop.count} samples)`);
      if (profiled) {
        const file = path.join(PROFILE_DIR, `server-${pid}.cpuprofile`);
        process.kill(pid, 'SIGUSR2');
        await waitForFile(file);
        log(`N=${n}: server CPU profile of t0 → COMPLETED (round 1) in ${file}`);
      }
      rounds.push({ completedMs, lastWriteMs, received: r.received, acked: r.acked, missing: r.missing, ackFailures: r.ackFailures, loop });
    }
    return { registerS, connectS: connectMs / 1000, rssBefore, rssAfter, heapBefore, heapAfter, rounds };
  } catch (error) {
    log(`server output (tail):\n${server.output().slice(-3000)}`);
    throw error;
  }
}

async function main(): Promise<void> {
  const limit = openFileLimit();
  log(`ulimit -n is ${limit}; acks over ${ACKS.join(' and ')}; ${CLIENT} graphql-ws clients in ${CLIENT_PROCS}+ processes; sizes ${SIZES.join(', ')}; ` +
    `${VALUE_BYTES}-byte configs; etcd watched by a hand-written gRPC client, one HTTP/2 connection per client process (etcd's best), and a connection per watcher`);
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
      const hotswap: Partial<Record<'ws' | 'http', HotSwapResult>> = {};
      const failures: string[] = [];
      for (const ack of ACKS as Array<'ws' | 'http'>) {
        // One ack path failing leaves the other and the peers measured.
        try {
          hotswap[ack] = await measureHotSwap(n, ack);
        } catch (error) {
          log(`N=${n}, acks over ${ack}, failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
          failures.push(`${ack} acks failed: ${error instanceof Error ? error.message.slice(0, 120) : String(error)}`);
        }
        await cleanUp();
      }
      if (!hotswap.ws && !hotswap.http) throw new Error(failures.join('; '));
      const floor = await measureFloor(n);
      await cleanUp();
      const etcdOwn = await measureEtcd(n, false);
      await cleanUp();
      const etcd = await measureEtcd(n, true);
      await cleanUp();
      const row = reportRow(n, hotswap, floor, etcd, etcdOwn);
      if (failures.length > 0) row.note = [row.note, ...failures].filter(Boolean).join('; ');
      console.table([row]);
      rows.push(row);
    } catch (error) {
      log(`N=${n} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      rows.push({ N: n, note: `failed: ${error instanceof Error ? error.message.slice(0, 120) : String(error)}` });
      await cleanUp();
    }
  }
  console.log(`\n${REPORT_TITLE} (medians of ${ROUNDS} rounds; ratios are HotSwap ÷ etcd, with the range of the per-round ratios)`);
  console.log(`${REPORT_LEGEND}\n`);
  console.table(rows);
}

try {
  await main();
} finally {
  await cleanUp();
}
