/**
 * What every target of bench/fanout.bench.ts shares: the run's settings, the
 * client worker processes (bench/fanout-clients.ts) that play the subscribers,
 * and one timed round (arm the workers, trigger, collect receives and acks).
 */
import { cleanups, type FromWorker, FD_RESERVE, forkWorker, now, openFileLimit, type ToWorker, type Worker } from './fanout-support.js';

export const CONCURRENCY = Number(process.env.BENCH_FANOUT_CONNECT_CONCURRENCY ?? 200);
/** At least two: every target's subscribers are spread over the same number of client processes. */
export const CLIENT_PROCS = Math.max(2, Number(process.env.BENCH_FANOUT_CLIENT_PROCS ?? 2));
export const TIMEOUT_MS = Number(process.env.BENCH_FANOUT_TIMEOUT_MS ?? 180_000);
export const ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS ?? 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_FANOUT_ROUNDS: "${process.env.BENCH_FANOUT_ROUNDS}" is not a whole number ≥ 1`);

export type ClientWorker = Worker<ToWorker, FromWorker>;
export const is = <E extends FromWorker['evt']>(evt: E) => (m: FromWorker): m is Extract<FromWorker, { evt: E }> => m.evt === evt;
export const log = (text: string) => process.stderr.write(`[fanout] ${text}\n`);

/** How many client processes N subscribers take: CLIENT_PROCS, or more when one process's fd limit is too low. */
export const procsFor = (n: number): number => Math.max(CLIENT_PROCS, Math.ceil(n / (openFileLimit() - FD_RESERVE)));

export function split<T>(items: T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size)).filter((p) => p.length > 0);
}

/** Forks one client worker per message, then times connect (+ subscribe) of all of them. */
export async function connectClients(messages: ToWorker[]): Promise<{ workers: ClientWorker[]; ms: number }> {
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
export async function fire(workers: ClientWorker[], version: number, trigger: () => Promise<unknown>) {
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
