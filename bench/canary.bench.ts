/**
 * `npm run bench:canary`: a CANARY deployment (phases 10/30/50/100%, bakeSeconds 1)
 * to N graphql-ws subscribers that ack over the websocket, then a manual
 * rollbackDeployment of it. Prints the canary's total time and the
 * orchestrator's overhead beyond the bake intervals (per phase: pushes, acks
 * and the health check), and the time until every instance acked the
 * previous version after the rollback. Fresh database and server process (with
 * Redis) per run; the clients run in a separate process.
 * Env: DATABASE_URL (admin URL), REDIS_URL, BENCH_CANARY_SIZE (default 1000), BENCH_CANARY_TIMEOUT_MS (120000).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type ServiceProcess, spawnService } from '../test/support/process.js';
import { PUBLISH, registerFleet, seedProfile, statusReached } from './fanout-setup.js';
import {
  adminSql, cleanups, cleanUpAll, cleanUpOnSignals, forkWorker, type FromWorker, gql, mapLimit, now, percentile, round,
  sampleConfig, type ToWorker, withTimeout,
} from './fanout-support.js';

const N = Number(process.env.BENCH_CANARY_SIZE ?? 1000);
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TIMEOUT_MS = Number(process.env.BENCH_CANARY_TIMEOUT_MS ?? 120_000);
const BAKE_SECONDS = 1;
const PHASES = [0.1, 0.3, 0.5, 1.0];
const SECRET = randomBytes(32).toString('hex');
const DATABASE = `hotswap_canary_${process.pid}`;
const log = (text: string) => process.stderr.write(`[canary] ${text}\n`);
const is = <E extends FromWorker['evt']>(evt: E) => (m: FromWorker): m is Extract<FromWorker, { evt: E }> => m.evt === evt;

// The simulated instances report no metrics: each phase would pause INCONCLUSIVE for lack of evidence. This bench measures
// the orchestration's overhead, so its policy promotes at the end of the bake instead (never a default).
const START_CANARY = `mutation($p: String!, $v: Int!) { startDeployment(input: { profileName: $p, version: $v, strategy: CANARY,
  canary: { phases: ${JSON.stringify(PHASES)}, bakeSeconds: ${BAKE_SECONDS} }, ackTimeoutSeconds: 60,
  health: { evidenceTimeoutSeconds: 0, onInconclusive: PROMOTE } }) { id phaseCount } }`;
const ROLLBACK = 'mutation($id: ID!) { rollbackDeployment(id: $id, reason: "benchmark rollback") { status } }';

cleanUpOnSignals(log);
const cleanUp = () => cleanUpAll(log);
const admin = (sql: string) => adminSql(ADMIN_URL, sql);

const reached = (url: string, token: string, id: string, status: string) => statusReached(url, token, id, status, TIMEOUT_MS);

/** Per phase, from the stored events: rollout (PHASE_STARTED → PHASE_COMPLETED) and judging (bake end → next PHASE_STARTED or end). */
async function phaseTimes(dbUrl: string, deploymentId: string): Promise<Array<{ phase: number; rolloutMs: number; judgeMs: number }>> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ type: string; phase: number; t: string }>(
      `select type, phase, extract(epoch from at) * 1000 as t from deployment_event where deployment_id = $1 order by id`, [deploymentId]);
    const at = (type: string, phase: number) => Number(rows.find((r) => r.type === type && r.phase === phase)?.t ?? Number.NaN);
    const end = Number(rows.at(-1)?.t ?? Number.NaN);
    return PHASES.map((_, i) => {
      const phase = i + 1;
      const completed = at('PHASE_COMPLETED', phase);
      const next = phase < PHASES.length ? at('PHASE_STARTED', phase + 1) : end;
      return { phase, rolloutMs: completed - at('PHASE_STARTED', phase), judgeMs: next - completed - BAKE_SECONDS * 1000 };
    });
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  await admin(`drop database if exists ${DATABASE} with (force)`);
  await admin(`create database ${DATABASE}`);
  cleanups.push(() => admin(`drop database if exists ${DATABASE} with (force)`));
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${DATABASE}`;
  const server: ServiceProcess = spawnService({
    DATABASE_URL: dbUrl.toString(), REDIS_URL, JWT_SECRET: SECRET, PORT: '0', HOST: '127.0.0.1', RATE_LIMIT_PER_SECOND: '0',
    HOTSWAP_MAX_SUBSCRIPTIONS_PER_CALLER: '1000000', HOTSWAP_HEARTBEAT_INTERVAL_MS: '3600000', LOG_LEVEL: 'info',
  });
  cleanups.push(() => withTimeout('server exit', 20_000, server.kill('SIGTERM')).catch(() => server.kill('SIGKILL')));
  const [, url] = await server.waitFor(/"url":"([^"]+)"/, 60_000);
  const service = `canary-${process.pid}`;
  const profile = `canary-${N}`;
  const seeded = await seedProfile(url!, SECRET, { name: 'canary', service, profile, config: sampleConfig(1) });
  const { adminToken } = seeded;
  const instances = await registerFleet(seeded, N, 'canary');
  cleanups.push(() => mapLimit(instances, 50, (c) => gql(url!, c.token, 'mutation($id: ID!) { deregisterInstance(id: $id) }', { id: c.id }).catch(() => undefined)));

  const worker = forkWorker<ToWorker, FromWorker>('fanout-clients.ts', TIMEOUT_MS);
  cleanups.push(async () => (worker.send({ cmd: 'close' }), worker.kill()));
  await worker.next(is('ready'), 30_000);
  worker.send({ cmd: 'connect', mode: 'hotswap', url: url!, clients: instances, concurrency: 200, ack: 'ws', client: 'library', profileName: profile });
  const connected = await worker.next(is('connected'), TIMEOUT_MS);
  if (connected.failed !== 0) throw new Error(`${connected.failed} connections failed: ${connected.firstError}`);
  log(`${N} instances subscribed in ${round(connected.ms / 1000, 1)} s`);
  await gql(url!, adminToken, PUBLISH, { p: profile, d: sampleConfig(2) });

  // The canary.
  worker.send({ cmd: 'expect', version: 2, timeoutMs: TIMEOUT_MS });
  await worker.next(is('armed'), 10_000);
  const t0 = now();
  const { startDeployment } = await gql<{ startDeployment: { id: string; phaseCount: number } }>(url!, adminToken, START_CANARY, { p: profile, v: 2 });
  const completed = await reached(url!, adminToken, startDeployment.id, 'COMPLETED');
  const canary = await worker.next(is('done'), TIMEOUT_MS);
  const totalMs = completed - t0;
  const phases = await phaseTimes(dbUrl.toString(), startDeployment.id);
  const bakesMs = startDeployment.phaseCount * BAKE_SECONDS * 1000;

  // The rollback of the completed canary.
  worker.send({ cmd: 'expect', version: 1, timeoutMs: TIMEOUT_MS });
  await worker.next(is('armed'), 10_000);
  const t1 = now();
  await gql(url!, adminToken, ROLLBACK, { id: startDeployment.id });
  const rolledBack = await reached(url!, adminToken, startDeployment.id, 'ROLLED_BACK');
  const rollback = await worker.next(is('done'), TIMEOUT_MS);
  const rel = (xs: number[], t: number) => xs.filter((x) => !Number.isNaN(x)).map((x) => x - t).sort((a, b) => a - b);
  const backAcks = rel(rollback.acked, t1);
  const backReceived = rel(rollback.received, t1);

  console.log(`\nHotSwap canary benchmark: ${N} graphql-ws instances (acks over ws), phases ${PHASES.join('/')}, bakeSeconds ${BAKE_SECONDS}\n`);
  console.table(phases.map((p) => ({ phase: p.phase, 'push + acks ms': round(p.rolloutMs), 'judge + next step ms': round(p.judgeMs) })));
  console.table([{
    'canary total ms': round(totalMs),
    'bake intervals ms': bakesMs,
    'overhead ms': round(totalMs - bakesMs),
    'instances on v2': rel(canary.acked, t0).length,
    'rollback: last receive ms': round(backReceived.at(-1) ?? Number.NaN),
    'rollback: p50 ack ms': round(percentile(backAcks, 50)),
    'rollback: last ack ms': round(backAcks.at(-1) ?? Number.NaN),
    'rollback: ROLLED_BACK seen ms': round(rolledBack - t1),
    'instances back on v1': backAcks.length,
  }]);
}

try {
  await main();
} finally {
  await cleanUp();
}
