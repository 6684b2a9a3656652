/**
 * `npm run bench:judge`: what judging one phase's health costs, in process, at
 * 1,000 and 10,000 instances: the rank-test judge of issue 16 (domain/health.ts)
 * beside the mean-based judge before it (bench/previous-judge.ts), both from the
 * heartbeat histories HealthMonitor reads from the registry (the read itself,
 * the same for both, is not timed).
 *
 * Input: 20 heartbeats per instance (METRICS_HISTORY_LENGTH), 10 s apart, with
 * errorRate around 1 %, latencyP99Ms around 100 ms, requestCount around 200 and
 * one custom metric, queueDepth, around 20. Every heartbeat of an updated
 * instance came after its ack, so a check reads all 20: the most it can.
 * - phase 1: 10 % of the fleet updated, judged against the 90 % not yet updated;
 * - last phase: the whole fleet updated, judged against the baseline samples
 *   kept when the deployment started (no instance is left on the old version);
 * - phase 1 degraded: the updated instances at 8 % errors and 200 ms, so the
 *   verdict FAILs (both judges) and the new judge also picks the outliers.
 * Policies: the new defaults plus a rank test of queueDepth; the previous
 * defaults (+5 points, +50 %) plus a bound on queueDepth.
 *
 * Per case, each run times `gather` (the histories into what the judge takes:
 * HealthMonitor.check's work after its registry read) and `judge` (the pure
 * function); printed are the median and p95 of BENCH_JUDGE_RUNS runs after
 * BENCH_JUDGE_WARMUP, and the new total over the previous one. Before timing,
 * the gathering here is checked against HealthMonitor.check itself.
 * Env: BENCH_JUDGE_SIZES (default 1000,10000), BENCH_JUDGE_RUNS (30), BENCH_JUDGE_WARMUP (5).
 */
import { deepStrictEqual } from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { TargetState } from '../src/domain/deployment.js';
import type { DeploymentRecord, TargetRecord } from '../src/domain/deployment-model.js';
import { HealthVerdict } from '../src/domain/enums.js';
import { evidenceOf } from '../src/domain/health-evidence.js';
import { judgeHealth, type SourceSamples } from '../src/domain/health.js';
import { healthChecks, type HealthPolicy, sourceKey, sourcesOf } from '../src/domain/health-policy.js';
import { normalizeHealthPolicy } from '../src/domain/health-policy-input.js';
import { baselineSamples, controlOf, valuesOf } from '../src/domain/health-samples.js';
import { aggregate, type HealthSnapshot, type MetricsSample } from '../src/domain/health-snapshot.js';
import { HealthMonitor } from '../src/orchestrator/health-monitor.js';
import type { InstanceRegistry } from '../src/registry/instance-registry.js';
import { percentile, round } from './fanout-support.js';
import * as previous from './previous-judge.js';

const SIZES = (process.env.BENCH_JUDGE_SIZES ?? '1000,10000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_JUDGE_RUNS ?? 30);
const WARMUP = Number(process.env.BENCH_JUDGE_WARMUP ?? 5);
const HEARTBEATS = 20;
const HEARTBEAT_MS = 10_000;
/** HealthMonitor's window for the baseline and the instances not yet updated. */
const WINDOW_MS = 10 * 60_000;

const NOW = new Date('2026-06-01T12:00:00Z');
const CREATED_AT = new Date(NOW.getTime() - 20 * 60_000);
/** Before the first heartbeat of every history: each one counts. */
const ACKED_AT = new Date(NOW.getTime() - HEARTBEATS * HEARTBEAT_MS - 5_000);

const NEW_POLICY: HealthPolicy = normalizeHealthPolicy({ metrics: [{ name: 'queueDepth' }] });
const OLD_POLICY: previous.PreviousPolicy = { maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: { queueDepth: 100 }, minHeartbeats: 2 };

/** mulberry32: the same fleet every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = random(16);
/** Box-Muller: a standard normal deviate. */
const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

function history(errorRate: number, latencyMs: number): MetricsSample[] {
  return Array.from({ length: HEARTBEATS }, (_, k) => {
    const requestCount = Math.max(1, Math.round(200 + 20 * normal()));
    return {
      at: new Date(NOW.getTime() - (HEARTBEATS - 1 - k) * HEARTBEAT_MS),
      metrics: {
        errorRate: Math.round(Math.max(0, errorRate + 0.004 * normal()) * requestCount) / requestCount,
        latencyP99Ms: Math.max(1, latencyMs * Math.exp(0.15 * normal())),
        requestCount,
        custom: { queueDepth: Math.max(0, Math.round(20 + 5 * normal())) },
      },
    };
  });
}

interface Fixture {
  label: string;
  histories: Map<string, MetricsSample[]>;
  updated: string[];
  waiting: string[];
  /** What each judge kept when the deployment started. */
  oldBaseline: HealthSnapshot;
  newBaseline: { snapshot: HealthSnapshot; samples: Record<string, number[]> };
}

function fixture(n: number, phase: 'phase 1' | 'last phase' | 'phase 1 degraded'): Fixture {
  const ids = Array.from({ length: n }, (_, i) => `i-${String(i).padStart(5, '0')}`);
  const canary = phase === 'last phase' ? n : Math.round(n / 10);
  const degraded = phase === 'phase 1 degraded';
  const histories = new Map(ids.map((id, i) => [id, i < canary && degraded ? history(0.08, 200) : history(0.01, 100)]));
  // The fleet before the deployment: the same distribution, healthy.
  const before = new Map(ids.map((id) => [id, history(0.01, 100)]));
  const since = new Date(NOW.getTime() - WINDOW_MS);
  return {
    label: `${phase}: ${canary.toLocaleString('en-US')} vs ${canary === n ? 'baseline' : (n - canary).toLocaleString('en-US')}`,
    histories,
    updated: ids.slice(0, canary),
    waiting: ids.slice(canary),
    oldBaseline: previous.aggregate(before, since),
    newBaseline: { snapshot: aggregate(before, since), samples: baselineSamples(before, since) },
  };
}

/** HealthMonitor.check's gathering once it has the histories, for heartbeat metrics (the bench's policy has no query). */
function gather(f: Fixture, policy: HealthPolicy): Parameters<typeof judgeHealth>[0] {
  const windowStart = new Date(Math.max(CREATED_AT.getTime(), NOW.getTime() - WINDOW_MS, Math.min(NOW.getTime(), ...f.updated.map(() => ACKED_AT.getTime()))));
  const sinceApply = new Map<string, MetricsSample[]>();
  for (const id of f.updated) sinceApply.set(id, (f.histories.get(id) ?? []).filter((s) => s.at.getTime() >= ACKED_AT.getTime()));
  const waiting = f.waiting.map((id) => f.histories.get(id) ?? []);
  const samples = new Map<string, SourceSamples>();
  for (const source of sourcesOf(healthChecks(policy))) {
    if (source.kind !== 'heartbeat') throw new Error('the bench judges heartbeat metrics only');
    const canary = new Map([...sinceApply].map(([id, s]) => [id, valuesOf(s, source.name, new Date(0))]));
    const notUpdated = waiting.flatMap((s) => valuesOf(s, source.name, windowStart));
    samples.set(sourceKey(source), { canary, ...controlOf(notUpdated, f.newBaseline.samples[source.name], policy.minSamples), error: null });
  }
  return {
    policy,
    samples,
    evidence: evidenceOf([...sinceApply.values()].map((s) => s.length), policy.minHeartbeats),
    baseline: f.newBaseline.snapshot,
    current: aggregate(sinceApply, new Date(0)),
    now: NOW,
  };
}

function gatherPrevious(f: Fixture): Parameters<typeof previous.evaluateHealth>[0] {
  return previous.previousGather({
    histories: f.histories,
    updated: f.updated.map((instanceId) => ({ instanceId, applied: true, ackedAt: ACKED_AT })),
    waiting: f.waiting.map((instanceId) => ({ instanceId, applied: false, ackedAt: null })),
    baseline: f.oldBaseline,
    policy: OLD_POLICY,
    createdAt: CREATED_AT,
    now: NOW,
  });
}

/** The gathering above gives HealthMonitor.check's verdict, metric for metric (its registry faked with the histories). */
async function assertMirrorsMonitor(f: Fixture): Promise<void> {
  const registry = { histories: async () => f.histories, setStatus: async () => undefined } as unknown as InstanceRegistry;
  const monitor = new HealthMonitor(registry, null, { queryStepSeconds: 10 });
  const d = { version: 2, createdAt: CREATED_AT, healthPolicy: NEW_POLICY, state: { baseline: f.newBaseline.snapshot, baselineSamples: f.newBaseline.samples } } as unknown as DeploymentRecord;
  const target = (instanceId: string, applied: boolean): TargetRecord => ({
    instanceId, phase: 1, state: applied ? TargetState.APPLIED : TargetState.PENDING, version: applied ? 2 : null,
    pushedAt: applied ? ACKED_AT : null, deadlineAt: null, ackedAt: applied ? ACKED_AT : null, reloadMs: null, error: null,
  });
  const targets = [...f.updated.map((id) => target(id, true)), ...f.waiting.map((id) => target(id, false))];
  const real = await monitor.check(d, targets, NOW);
  const mine = judgeHealth(gather(f, NEW_POLICY));
  deepStrictEqual({ verdict: mine.verdict, metrics: mine.metrics, outliers: mine.outliers }, { verdict: real.verdict, metrics: real.metrics, outliers: real.outliers },
    'bench/judge.bench.ts no longer gathers as HealthMonitor.check does: update gather()');
}

interface Timing {
  gather: number[];
  judge: number[];
  total: number[];
  verdict: HealthVerdict;
}

function time<I, R extends { verdict: HealthVerdict }>(collect: () => I, judge: (input: I) => R): Timing {
  const t: Timing = { gather: [], judge: [], total: [], verdict: HealthVerdict.INCONCLUSIVE };
  for (let run = 0; run < WARMUP + RUNS; run++) {
    const t0 = performance.now();
    const input = collect();
    const t1 = performance.now();
    t.verdict = judge(input).verdict;
    const t2 = performance.now();
    if (run < WARMUP) continue;
    t.gather.push(t1 - t0);
    t.judge.push(t2 - t1);
    t.total.push(t2 - t0);
  }
  return t;
}

/** Milliseconds of each run of `fn` after the warm-up. */
function durations(fn: () => unknown): number[] {
  const ms: number[] = [];
  for (let run = 0; run < WARMUP + RUNS; run++) {
    const t0 = performance.now();
    fn();
    if (run >= WARMUP) ms.push(performance.now() - t0);
  }
  return ms;
}

const stat = (values: number[], p: number) => round(percentile([...values].sort((a, b) => a - b), p), 2);

const rows: Record<string, Record<string, number | string>> = {};
const baselineRows: Record<string, Record<string, number>> = {};
for (const n of SIZES) {
  for (const phase of ['phase 1', 'last phase', 'phase 1 degraded'] as const) {
    const f = fixture(n, phase);
    await assertMirrorsMonitor(f);
    const old = time(() => gatherPrevious(f), previous.evaluateHealth);
    const rank = time(() => gather(f, NEW_POLICY), judgeHealth);
    for (const [who, t] of [['previous', old], ['rank tests', rank]] as const) {
      rows[`N=${n.toLocaleString('en-US')} ${f.label}, ${who}`] = {
        verdict: t.verdict,
        'gather p50': stat(t.gather, 50),
        'judge p50': stat(t.judge, 50),
        'total p50 ms': stat(t.total, 50),
        'total p95 ms': stat(t.total, 95),
        'new/old p50': who === 'previous' ? '' : `${round(stat(rank.total, 50) / stat(old.total, 50), 1)}×`,
      };
    }
    if (phase === 'phase 1') {
      // Once per deployment, at its start: what each judge keeps of the fleet before it.
      const since = new Date(NOW.getTime() - WINDOW_MS);
      const oldKeep = durations(() => previous.aggregate(f.histories, since));
      const newKeep = durations(() => ({ snapshot: aggregate(f.histories, since), samples: baselineSamples(f.histories, since) }));
      baselineRows[`N=${n.toLocaleString('en-US')}`] = {
        'previous p50 ms': stat(oldKeep, 50), 'previous p95 ms': stat(oldKeep, 95), 'rank tests p50 ms': stat(newKeep, 50), 'rank tests p95 ms': stat(newKeep, 95),
      };
    }
  }
}

console.log(`\nHotSwap health judgement of one phase: ${HEARTBEATS} heartbeats per instance (errorRate, latencyP99Ms, requestCount, queueDepth), ` +
  `${RUNS} runs after ${WARMUP} warm-up, Node ${process.version}\n`);
console.table(rows);
console.log('\nThe baseline a deployment keeps at its start (once per deployment):');
console.table(baselineRows);
