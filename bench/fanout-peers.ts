/**
 * The peers of bench/fanout.bench.ts, measured in the same run on the same
 * machine with the same client processes and parsing as HotSwap's subscribers:
 * a bare `ws` broadcast (bench/fanout-floor.ts) and a real etcd watch
 * (bench/fanout-etcd.ts). Each push is the config HotSwap deploys (sizedConfig:
 * BENCH_FANOUT_VALUE_BYTES of JSON), without HotSwap's graphql-ws envelope.
 */
import { startEtcd } from './fanout-etcd.js';
import type { FromFloor, ToFloor } from './fanout-floor.js';
import { CONCURRENCY, connectClients, fire, log, procsFor, ROUNDS, split } from './fanout-rounds.js';
import { cleanups, forkWorker, now, round, rssMiB, sizedConfig } from './fanout-support.js';

/** A peer's rounds: every subscriber's receive time from t0, and how many missed it. */
export interface PeerResult {
  rounds: Array<{ received: number[]; missing: number }>;
  setupMs: number;
  rssPerThousand: number;
}

/** The config of a push (its `seed` is the version), the bytes the floor broadcasts and etcd's watchers get. */
const pushValue = (version: number): string => JSON.stringify(sizedConfig(version));

export async function measureFloor(n: number) {
  const floor = forkWorker<ToFloor, FromFloor>('fanout-floor.ts');
  cleanups.push(() => (floor.send({ cmd: 'close' }), floor.kill()));
  const { url } = await floor.next((m): m is Extract<FromFloor, { evt: 'listening' }> => m.evt === 'listening', 30_000);
  const procs = procsFor(n);
  const rssBefore = rssMiB(floor.child.pid!);
  const { workers, ms: setupMs } = await connectClients(
    split(Array.from({ length: n }, (_, i) => i), procs).map((part) => ({ cmd: 'connect', mode: 'floor', url, count: part.length, concurrency: Math.ceil(CONCURRENCY / procs) })),
  );
  const rss = rssMiB(floor.child.pid!);
  const rounds: Array<PeerResult['rounds'][number] & { loopMs: number }> = [];
  for (let k = 1; k <= ROUNDS; k++) {
    const version = k + 1;
    const payload = pushValue(version);
    const r = await fire(workers, version, async () => floor.send({ cmd: 'broadcast', payload }));
    const sent = await floor.next((m): m is Extract<FromFloor, { evt: 'sent' }> => m.evt === 'sent', 10_000);
    log(`N=${n} round ${k}: floor last receive ${round(r.received.at(-1) ?? Number.NaN, 1)} ms; its broadcast loop took ${round(sent.ms, 1)} ms for ${sent.clients} clients`);
    rounds.push({ received: r.received, missing: r.missing, loopMs: sent.ms });
  }
  return { rounds, setupMs, rssPerThousand: ((rss - rssBefore) / n) * 1000 };
}

/**
 * etcd: N watches of one key, each on its own connection (as N instances with
 * a client each), or `shared`: one HTTP/2 connection per client process carrying
 * all its watch streams (etcd's best); a push is one put of the config.
 */
export async function measureEtcd(n: number, shared: boolean): Promise<PeerResult> {
  const etcd = await startEtcd(log);
  cleanups.push(() => etcd.stop());
  const key = `hotswap/fanout-${n}`;
  await etcd.put(key, pushValue(1));
  const rssBefore = rssMiB(etcd.pid);
  const procs = procsFor(n);
  const { workers, ms: setupMs } = await connectClients(
    split(Array.from({ length: n }, (_, i) => i), procs).map((part) => ({ cmd: 'connect', mode: 'etcd', address: etcd.address, key, count: part.length, concurrency: Math.ceil(CONCURRENCY / procs), shared })),
  );
  const rss = rssMiB(etcd.pid);
  const rounds: PeerResult['rounds'] = [];
  for (let k = 1; k <= ROUNDS; k++) {
    const version = k + 1;
    const value = pushValue(version);
    let answered = 0;
    const r = await fire(workers, version, async () => {
      await etcd.put(key, value);
      answered = now();
    });
    log(`N=${n} round ${k}: etcd (${shared ? 'one connection per client process' : 'a connection per watcher'}) last receive ${round(r.received.at(-1) ?? Number.NaN, 1)} ms; its put answered after ${round(answered - r.t0, 1)} ms`);
    rounds.push({ received: r.received, missing: r.missing });
  }
  return { rounds, setupMs, rssPerThousand: ((rss - rssBefore) / n) * 1000 };
}
