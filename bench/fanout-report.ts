/**
 * One row of bench/fanout.bench.ts's table per N: HotSwap's figures (per ack
 * path), the bare ws broadcast's, etcd's (its best: one HTTP/2 connection per
 * client process carrying every watch) and etcd's with a connection per
 * watcher, and each HotSwap figure as a ratio to etcd's, measured in the same
 * run. A ratio is of the medians over the rounds; its spread is the range of
 * the round-by-round ratios (setup and memory are measured once per N).
 */
import type { HotSwapResult } from './fanout.bench.js';
import type { PeerResult } from './fanout-peers.js';
import { median, percentile, round, VALUE_BYTES } from './fanout-support.js';

export const REPORT_TITLE =
  `Push fan-out to N subscribers: HotSwap (DIRECT deployment of a ${VALUE_BYTES}-byte config, Redis pub/sub), a bare ws broadcast and an etcd watch of the same config`;
export const REPORT_LEGEND = [
  'ms are from t0 (just before the startDeployment mutation, the broadcast or the put) to a client\'s receive; first/last: the first and last subscriber;',
  'setup: HotSwap registers the N instances and subscribes them, etcd opens the N watches; loop p99/max: the HotSwap server\'s event-loop delay, t0 → COMPLETED;',
  'KiB: server RSS growth per idle subscriber; etcd: N watches on one HTTP/2 connection per client process (its best); etcd conn/watcher: a connection each.',
].join('\n');

type Rounds = Array<{ received: number[] }>;
const pick = <R>(rounds: R[], f: (r: R) => number | undefined): number[] => rounds.map((r) => f(r) ?? Number.NaN);
const last = (rounds: Rounds) => pick(rounds, (r) => r.received.at(-1));
const first = (rounds: Rounds) => pick(rounds, (r) => r.received[0]);
const p50p99 = (rounds: Rounds) =>
  `${round(median(pick(rounds, (r) => percentile(r.received, 50))))}/${round(median(pick(rounds, (r) => percentile(r.received, 99))))}`;

/** "1.8× (1.5–2.3)": median ratio, and the range of the per-round ratios. */
function ratio(ours: number[], theirs: number[]): string {
  const perRound = ours.map((x, i) => x / theirs[i]!).filter(Number.isFinite);
  const spread = perRound.length > 1 ? ` (${round(Math.min(...perRound), 1)}–${round(Math.max(...perRound), 1)})` : '';
  return `${round(median(ours) / median(theirs), 1)}×${spread}`;
}

/** KiB of server RSS per idle subscriber. */
const kibPerSubscriber = (mibPerThousand: number) => round(mibPerThousand * 1.024, 1);

export function reportRow(
  n: number,
  hotswap: Partial<Record<'ws' | 'http', HotSwapResult>>,
  floor: PeerResult,
  etcd: PeerResult,
  etcdOwn: PeerResult,
): Record<string, number | string> {
  const h = hotswap.ws ?? hotswap.http!;
  const etcdSetupS = etcd.setupMs / 1000;
  const setupS = h.registerS + h.connectS;
  const kib = kibPerSubscriber(((h.rssAfter - h.rssBefore) / n) * 1000);
  const row: Record<string, number | string> = {
    N: n,
    'setup s (register+subscribe)': `${round(h.registerS, 1)}+${round(h.connectS, 1)}`,
    'etcd setup s': round(etcdSetupS, 1),
    'setup ÷ etcd': `${round(setupS / etcdSetupS, 1)}×`,
    'first ms': round(median(first(h.rounds))),
    'etcd first ms': round(median(first(etcd.rounds)), 1),
    'first ÷ etcd': ratio(first(h.rounds), first(etcd.rounds)),
    'last ms': round(median(last(h.rounds))),
    'ws last ms': round(median(last(floor.rounds)), 1),
    'etcd last ms': round(median(last(etcd.rounds)), 1),
    'last ÷ etcd': ratio(last(h.rounds), last(etcd.rounds)),
    'etcd conn/watcher last ms': round(median(last(etcdOwn.rounds)), 1),
    'p50/p99 ms': p50p99(h.rounds),
    'etcd p50/p99 ms': p50p99(etcd.rounds),
  };
  for (const [ack, result] of Object.entries(hotswap)) {
    row[`all acked ms (${ack})`] = round(median(pick(result.rounds, (r) => r.acked.at(-1))));
    row[`completed ms (${ack})`] = round(median(pick(result.rounds, (r) => r.completedMs)));
    row[`loop p99/max ms (${ack})`] = `${round(median(pick(result.rounds, (r) => r.loop.p99)))}/${round(median(pick(result.rounds, (r) => r.loop.max)))}`;
  }
  row['KiB RSS/idle sub'] = kib;
  row['ws KiB'] = kibPerSubscriber(floor.rssPerThousand);
  row['etcd KiB'] = kibPerSubscriber(etcd.rssPerThousand);
  row['KiB ÷ etcd'] = `${round(kib / kibPerSubscriber(etcd.rssPerThousand), 1)}×`;
  row['etcd conn/watcher KiB'] = kibPerSubscriber(etcdOwn.rssPerThousand);
  const missing = [...Object.values(hotswap), floor, etcd, etcdOwn].reduce((m, r) => m + r.rounds.reduce((k, x) => k + x.missing, 0), 0);
  const ackFailures = Object.values(hotswap).reduce((m, r) => m + r.rounds.reduce((k, x) => k + x.ackFailures, 0), 0);
  if (missing + ackFailures > 0) row.note = `missing receives ${missing}, ack failures ${ackFailures}`;
  return row;
}
