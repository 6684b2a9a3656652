/**
 * Helpers shared by bench/fanout.bench.ts and its child processes: clock,
 * percentiles, RSS and fd limits from /proc, a GraphQL-over-HTTP caller, the
 * sample config, and the IPC message shapes between the parent and the workers.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now();

/** Bytes of the config pushed by bench/fanout.bench.ts to every target (BENCH_FANOUT_VALUE_BYTES, at least ~80). */
export const VALUE_BYTES = Number(process.env.BENCH_FANOUT_VALUE_BYTES ?? 128);
if (!Number.isInteger(VALUE_BYTES) || VALUE_BYTES < 1) throw new Error(`BENCH_FANOUT_VALUE_BYTES: "${process.env.BENCH_FANOUT_VALUE_BYTES}" is not a positive whole number`);

/**
 * A service config whose JSON is `bytes` long (or its smallest, ~80 bytes): `seed`, then
 * feature flags while they fit, then padding. bench/fanout.bench.ts pushes it to HotSwap's
 * subscribers, the floor broadcasts it and etcd's watchers get it as the value of a put.
 */
export function sizedConfig(seed: number, bytes = VALUE_BYTES): Record<string, unknown> {
  const features: Record<string, unknown> = {};
  const config = { seed, http: { port: 8080, timeoutMs: 2500 }, features, pad: '' };
  let length = JSON.stringify(config).length;
  for (let i = 0; ; i++) {
    const feature = { enabled: i % 2 === 0, rollout: i % 10 };
    const more = JSON.stringify(`feature_${i}`).length + 1 + JSON.stringify(feature).length + (i > 0 ? 1 : 0);
    if (length + more > bytes) break;
    features[`feature_${i}`] = feature;
    length += more;
  }
  config.pad = 'x'.repeat(Math.max(0, bytes - length));
  return config;
}

/** A realistic service config of about 2 KB (the same shape as bench/http.bench.ts). */
export function sampleConfig(seed: number): Record<string, unknown> {
  return {
    seed,
    http: { port: 8080, timeoutMs: 2500, retries: { max: 3, backoffMs: [100, 200, 400] } },
    database: { pool: { min: 2, max: 20 }, statementTimeoutMs: 5000, replicas: ['db-1', 'db-2', 'db-3'] },
    features: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`feature_${i}`, { enabled: i % 2 === 0, rollout: i / 40 }])),
    limits: { rps: 1200, burst: 300, perTenant: { free: 10, pro: 100, enterprise: 1000 } },
  };
}

/** Nearest-rank percentile of an ascending array; NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The median of the values (in any order; the lower middle one of an even count); NaN when empty. */
export const median = (values: number[]): number => percentile([...values].sort((a, b) => a - b), 50);

export const round = (n: number, digits = 0): number => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);

/** VmRSS of a process in MiB (Linux /proc). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** Waits (bounded) until `file` exists. */
export async function waitForFile(file: string, timeoutMs = 10_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !existsSync(file); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${file}`);
  }
  await new Promise((r) => setTimeout(r, 50));
}

const hookSeq = new Map<string, number>();
/** Signals the server's bench/fanout-server-hook.mjs and reads the JSON it answers with (<name>-<pid>-<n>.json). */
async function askHook<T>(pid: number, dir: string, signal: NodeJS.Signals, name: string): Promise<T> {
  const key = `${pid}:${name}`;
  const seq = hookSeq.get(key) ?? 0;
  hookSeq.set(key, seq + 1);
  const file = path.join(dir, `${name}-${pid}-${seq}.json`);
  process.kill(pid, signal);
  await waitForFile(file);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Heap in use (MiB) after a full GC in the server (SIGWINCH). */
export async function heapAfterGcMiB(pid: number, dir: string): Promise<number> {
  const usage = await askHook<{ heapUsed: number; external: number }>(pid, dir, 'SIGWINCH', 'mem');
  return (usage.heapUsed + usage.external) / 2 ** 20;
}

/** [time (epoch ms), bytes, 1 for a configUpdates message] of the server's websocket sends since the previous call (SIGPWR). */
export function serverSends(pid: number, dir: string): Promise<Array<[number, number, 0 | 1]>> {
  return askHook(pid, dir, 'SIGPWR', 'sends');
}

/** The server's event-loop delay (ms) since the previous call (SIGURG), which restarts it. */
export interface LoopDelay {
  p99: number;
  max: number;
  mean: number;
  count: number;
  resolutionMs: number;
}
export function loopDelay(pid: number, dir: string): Promise<LoopDelay> {
  return askHook(pid, dir, 'SIGURG', 'loop');
}

/** The soft limit on open files of this process (children inherit it). */
export function openFileLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** fds a process needs besides its sockets (stdio, epoll, PostgreSQL pool, Redis, tsx…). */
export const FD_RESERVE = 300;

export async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** POSTs one GraphQL operation; throws on transport or GraphQL errors. */
export async function gql<T = Record<string, unknown>>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(60_000),
  });
  const json = (await res.json()) as { data?: T; errors?: unknown };
  if (json.errors || !json.data) throw new Error(`GraphQL error (HTTP ${res.status}): ${JSON.stringify(json.errors)}`);
  return json.data;
}

/** Cleanups of a bench run, run newest first by cleanUp() on success, failure or a signal. */
export const cleanups: Array<() => Promise<unknown>> = [];
export async function cleanUpAll(log: (text: string) => void): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch((e: unknown) => log(`cleanup failed: ${String(e)}`));
}
export function cleanUpOnSignals(log: (text: string) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUpAll(log).finally(() => process.exit(130)));
}

/** Runs one SQL statement on a fresh connection (CREATE/DROP DATABASE). */
export async function adminSql(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

// ---- IPC between the parent and the client workers ------------------------------------------

export interface Creds {
  id: string;
  token: string;
}

export type ToWorker =
  | { cmd: 'connect'; mode: 'hotswap'; url: string; clients: Creds[]; concurrency: number; ack: 'ws' | 'http'; client: 'raw' | 'library'; profileName: string }
  | { cmd: 'connect'; mode: 'floor'; url: string; count: number; concurrency: number }
  /** etcd: `count` gRPC watches of `key` at `address` (host:port), each on its own connection, or all on one (`shared`). */
  | { cmd: 'connect'; mode: 'etcd'; address: string; key: string; count: number; concurrency: number; shared: boolean }
  | { cmd: 'expect'; version: number; timeoutMs: number }
  | { cmd: 'close' };

export type FromWorker =
  | { evt: 'ready' }
  | { evt: 'connected'; ok: number; failed: number; firstError: string | null; ms: number }
  | { evt: 'armed' }
  /** Absolute receive and ack-answered times (see `now`); NaN for none. */
  | { evt: 'done'; received: number[]; acked: number[]; ackFailures: number; firstError: string | null };

/** A forked TypeScript child (run through tsx) speaking JSON over IPC. */
export interface Worker<In, Out> {
  child: ChildProcess;
  send(message: In): void;
  /** The next message matching `pred`, within `timeoutMs`. */
  next<M extends Out>(pred: (m: Out) => m is M, timeoutMs: number): Promise<M>;
  kill(): Promise<void>;
}

export function forkWorker<In, Out>(script: string, timeoutMs = 30_000): Worker<In, Out> {
  const child = fork(path.join(import.meta.dirname, script), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const inbox: Out[] = [];
  const waiters = new Set<() => void>();
  child.on('message', (m) => {
    inbox.push(m as Out);
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => [...waiters].forEach((w) => w()));
  return {
    child,
    send: (message) => child.send(message as object),
    next(pred, ms = timeoutMs) {
      return withTimeout(`message from ${script}`, ms, new Promise((resolve, reject) => {
        const check = () => {
          const i = inbox.findIndex(pred);
          if (i >= 0) {
            waiters.delete(check);
            resolve(inbox.splice(i, 1)[0] as never);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            waiters.delete(check);
            reject(new Error(`${script} exited (${child.exitCode ?? child.signalCode}) before the expected message`));
          }
        };
        waiters.add(check);
        check();
      }));
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}
