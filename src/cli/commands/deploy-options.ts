import { CliError, ExitCode } from '../exit-codes.js';
import { type HealthOptions, type MetricInput, mergeMetrics, parseMetricSpec, policyFromDocument } from './health-options.js';

/** The strategies by the names the CLI accepts (`blue-green` or `BLUE_GREEN`, any case). */
const STRATEGIES: Readonly<Record<string, string>> = {
  canary: 'CANARY',
  'blue-green': 'BLUE_GREEN',
  rolling: 'ROLLING',
  direct: 'DIRECT',
};

/** The raw flags of `hotswap deploy` (commander gives strings; parsed here so a mistake is one clear line). */
export interface DeployFlags {
  strategy: string;
  phases?: string;
  bakeSeconds?: string;
  verifySeconds?: string;
  batchSize?: string;
  batchPercent?: string;
  intervalSeconds?: string;
  maxConcurrency?: string;
  ackTimeoutSeconds?: string;
  maxErrorRateIncrease?: string;
  maxLatencyIncreasePct?: string;
  threshold?: string[];
  minHeartbeats?: string;
  evidenceTimeoutSeconds?: string;
  onInconclusive?: string;
  confidence?: string;
  minSamples?: string;
  passThreshold?: string;
  marginalThreshold?: string;
  errorRateTolerance?: string;
  latencyTolerancePct?: string;
  metric?: string[];
  healthPolicyFile?: string;
  /** False with `--no-auto-rollback`. */
  autoRollback: boolean;
}

/** The health flags: they apply to the strategies that judge health. */
const HEALTH_FLAGS: ReadonlyArray<[keyof DeployFlags, string]> = [
  ['maxErrorRateIncrease', '--max-error-rate-increase'],
  ['maxLatencyIncreasePct', '--max-latency-increase-pct'],
  ['threshold', '--threshold'],
  ['minHeartbeats', '--min-heartbeats'],
  ['evidenceTimeoutSeconds', '--evidence-timeout-seconds'],
  ['onInconclusive', '--on-inconclusive'],
  ['confidence', '--confidence'],
  ['minSamples', '--min-samples'],
  ['passThreshold', '--pass-threshold'],
  ['marginalThreshold', '--marginal-threshold'],
  ['errorRateTolerance', '--error-rate-tolerance'],
  ['latencyTolerancePct', '--latency-tolerance-pct'],
  ['metric', '--metric'],
  ['healthPolicyFile', '--health-policy-file'],
];

/** Which flags belong to which strategy (the key of DeployFlags → its flag and the strategies that take it). */
const FLAG_STRATEGIES: ReadonlyArray<[keyof DeployFlags, string, readonly string[]]> = [
  ['phases', '--phases', ['CANARY']],
  ['bakeSeconds', '--bake-seconds', ['CANARY']],
  ['verifySeconds', '--verify-seconds', ['BLUE_GREEN']],
  ['batchSize', '--batch-size', ['ROLLING']],
  ['batchPercent', '--batch-percent', ['ROLLING']],
  ['intervalSeconds', '--interval-seconds', ['ROLLING']],
  ['maxConcurrency', '--max-concurrency', ['DIRECT']],
  ...HEALTH_FLAGS.map(([key, flag]): [keyof DeployFlags, string, readonly string[]] => [key, flag, ['CANARY', 'BLUE_GREEN', 'ROLLING']]),
];

const DAY = 86_400;

/** Everything of StartDeploymentInput but profileName and version. */
export interface DeploymentOptions {
  strategy: string;
  canary?: { phases?: number[]; bakeSeconds?: number };
  rolling?: { batchSize?: number; batchPercent?: number; intervalSeconds?: number };
  blueGreen?: { verifySeconds?: number };
  direct?: { maxConcurrency?: number };
  health?: HealthOptions;
  ackTimeoutSeconds?: number;
}

/**
 * Turns the flags into the strategy and health parts of StartDeploymentInput.
 * Refuses (exit 4, one line) a flag of another strategy, and values the server
 * would refuse anyway, so a CI log says which flag is wrong.
 * `autoRollbackGiven`: `--no-auto-rollback` was on the command line;
 * `policyFile`: the document `--health-policy-file` names, read.
 */
export function deploymentOptions(f: DeployFlags, autoRollbackGiven: boolean, policyFile?: unknown): DeploymentOptions {
  const strategy = parseStrategy(f.strategy);
  for (const [key, flag, strategies] of FLAG_STRATEGIES) {
    if (f[key] !== undefined && !strategies.includes(strategy)) throw misplaced(flag, strategy, strategies);
  }
  if (autoRollbackGiven && strategy === 'DIRECT') throw misplaced('--no-auto-rollback', strategy, ['CANARY', 'BLUE_GREEN', 'ROLLING']);
  if (f.batchSize !== undefined && f.batchPercent !== undefined) refuse('give --batch-size or --batch-percent, not both');

  const out: DeploymentOptions = { strategy };
  switch (strategy) {
    case 'CANARY':
      if (f.phases !== undefined || f.bakeSeconds !== undefined) {
        out.canary = {
          ...(f.phases !== undefined ? { phases: parsePhases(f.phases) } : {}),
          ...(f.bakeSeconds !== undefined ? { bakeSeconds: whole('--bake-seconds', f.bakeSeconds, 0, DAY) } : {}),
        };
      }
      break;
    case 'ROLLING':
      if (f.batchSize !== undefined || f.batchPercent !== undefined || f.intervalSeconds !== undefined) {
        out.rolling = {
          ...(f.batchSize !== undefined ? { batchSize: whole('--batch-size', f.batchSize, 1, 1_000_000) } : {}),
          ...(f.batchPercent !== undefined ? { batchPercent: percent('--batch-percent', f.batchPercent) } : {}),
          ...(f.intervalSeconds !== undefined ? { intervalSeconds: whole('--interval-seconds', f.intervalSeconds, 0, DAY) } : {}),
        };
      }
      break;
    case 'BLUE_GREEN':
      if (f.verifySeconds !== undefined) out.blueGreen = { verifySeconds: whole('--verify-seconds', f.verifySeconds, 0, DAY) };
      break;
    case 'DIRECT':
      if (f.maxConcurrency !== undefined) out.direct = { maxConcurrency: whole('--max-concurrency', f.maxConcurrency, 1, 1_000_000) };
      break;
  }
  const health = healthPolicy(f, autoRollbackGiven, policyFile);
  if (health) out.health = health;
  if (f.ackTimeoutSeconds !== undefined) out.ackTimeoutSeconds = whole('--ack-timeout-seconds', f.ackTimeoutSeconds, 1, 3600);
  return out;
}

/** The policy file's fields, each replaced by its flag when given; `--metric` merges into the file's metrics by name. */
function healthPolicy(f: DeployFlags, autoRollbackGiven: boolean, policyFile: unknown): HealthOptions | undefined {
  const h: HealthOptions = f.healthPolicyFile === undefined ? {} : policyFromDocument(policyFile, f.healthPolicyFile);
  if (f.maxErrorRateIncrease !== undefined) {
    const x = number('--max-error-rate-increase', f.maxErrorRateIncrease);
    if (x < 0 || x > 1) refuse(`--max-error-rate-increase is a share from 0 to 1 (0.05 = +5 points of error rate), got ${f.maxErrorRateIncrease}`);
    h.maxErrorRateIncrease = x;
  }
  if (f.maxLatencyIncreasePct !== undefined) {
    const p = number('--max-latency-increase-pct', f.maxLatencyIncreasePct);
    if (p < 0) refuse(`--max-latency-increase-pct is a percentage ≥ 0 (50 = p99 may grow by half), got ${f.maxLatencyIncreasePct}`);
    h.maxLatencyIncreasePct = p;
  }
  if (f.threshold !== undefined && f.threshold.length > 0) h.customThresholds = { ...(typeof h.customThresholds === 'object' ? h.customThresholds : {}), ...parseThresholds(f.threshold) };
  if (autoRollbackGiven && !f.autoRollback) h.autoRollback = false;
  if (f.minHeartbeats !== undefined) h.minHeartbeats = whole('--min-heartbeats', f.minHeartbeats, 1, 20);
  if (f.evidenceTimeoutSeconds !== undefined) h.evidenceTimeoutSeconds = whole('--evidence-timeout-seconds', f.evidenceTimeoutSeconds, 0, DAY);
  if (f.onInconclusive !== undefined) {
    const action = f.onInconclusive.trim().toUpperCase();
    if (action !== 'PAUSE' && action !== 'PROMOTE') refuse(`--on-inconclusive is pause or promote, got "${f.onInconclusive}"`);
    h.onInconclusive = action;
  }
  if (f.confidence !== undefined) h.confidence = between('--confidence', f.confidence, (c) => c >= 0.5 && c < 1, 'a confidence from 0.5 to under 1 (0.98 = 98 %)');
  if (f.minSamples !== undefined) h.minSamples = whole('--min-samples', f.minSamples, 1, 1000);
  if (f.passThreshold !== undefined) h.passThreshold = between('--pass-threshold', f.passThreshold, (s) => s >= 0 && s <= 1, 'a score from 0 to 1');
  if (f.marginalThreshold !== undefined) h.marginalThreshold = between('--marginal-threshold', f.marginalThreshold, (s) => s >= 0 && s <= 1, 'a score from 0 to 1');
  const metrics = metricFlags(f);
  if (metrics.length > 0) h.metrics = mergeMetrics(h.metrics ?? [], metrics);
  return Object.keys(h).length > 0 ? h : undefined;
}

/**
 * The metrics of `--metric`, after those of `--error-rate-tolerance` and
 * `--latency-tolerance-pct` (short for a --metric of errorRate, latencyP99Ms),
 * so the defaults stay first in the report.
 */
function metricFlags(f: DeployFlags): MetricInput[] {
  const metrics = (f.metric ?? []).map(parseMetricSpec);
  const twice = metrics.find((m, i) => metrics.findIndex((o) => o.name === m.name) !== i);
  if (twice) refuse(`--metric names ${twice.name} twice: give each metric once, with all its options`);
  const front: MetricInput[] = [];
  const shorthand = (name: string, flag: string, fields: Partial<MetricInput>) => {
    const given = metrics.find((m) => m.name === name);
    if (given?.tolerance !== undefined || given?.tolerancePct !== undefined) refuse(`give ${flag} or --metric ${name}:tolerance…, not both`);
    if (given) Object.assign(given, fields);
    else front.push({ name, ...fields });
  };
  if (f.errorRateTolerance !== undefined) {
    const tolerance = between('--error-rate-tolerance', f.errorRateTolerance, (x) => x >= 0 && x <= 1, 'a share from 0 to 1 (0.005 = +0.5 points of error rate)');
    shorthand('errorRate', '--error-rate-tolerance', { tolerance });
  }
  if (f.latencyTolerancePct !== undefined) {
    const tolerancePct = between('--latency-tolerance-pct', f.latencyTolerancePct, (p) => p >= 0, "a percentage ≥ 0 of the control's p99 (20 = may grow by a fifth)");
    // null: a tolerance in ms from the policy file would otherwise win over the percentage.
    shorthand('latencyP99Ms', '--latency-tolerance-pct', { tolerancePct, tolerance: null });
  }
  return [...front, ...metrics];
}

function parseStrategy(text: string): string {
  const strategy = STRATEGIES[text.trim().toLowerCase().replaceAll('_', '-')];
  if (strategy === undefined) refuse(`--strategy must be canary, blue-green, rolling or direct; got "${text}"`);
  return strategy;
}

/** "10,30,50,100" (percentages of the fleet, strictly ascending, ending at 100) → [0.1, 0.3, 0.5, 1]. */
function parsePhases(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim().replace(/%$/, ''));
  const values = parts.map((p) => (/^\d+(\.\d+)?$/.test(p) ? Number(p) : Number.NaN));
  const example = 'e.g. --phases 10,30,50,100';
  if (values.some((v) => Number.isNaN(v))) refuse(`--phases takes percentages of the fleet separated by commas, ${example}; got "${text}"`);
  if (values.length > 20) refuse(`--phases lists 1 to 20 phases, got ${values.length}`);
  if (values.at(-1) === 1 && values.every((v) => v <= 1)) {
    refuse(`--phases takes percentages, not shares: write ${values.map((v) => Math.round(v * 1000) / 10).join(',')} instead of "${text}"`);
  }
  values.forEach((v, i) => {
    if (!(v > 0 && v <= 100)) refuse(`--phases: each phase is a percentage in (0, 100], got ${parts[i]}`);
    if (i > 0 && v <= values[i - 1]!) refuse(`--phases must be strictly ascending, ${example}; got "${text}"`);
  });
  if (values.at(-1) !== 100) refuse(`--phases must end at 100 (the whole fleet), ${example}; got "${text}"`);
  return values.map((v) => v / 100);
}

/** ["latency_p50=120", "queue_depth=1000"] → { latency_p50: 120, queue_depth: 1000 }. */
function parseThresholds(items: readonly string[]): Record<string, number> {
  const thresholds: Record<string, number> = {};
  for (const item of items) {
    const match = /^([^=\s]+)=(.+)$/.exec(item.trim());
    const max = match ? Number(match[2]) : Number.NaN;
    if (!match || !Number.isFinite(max)) refuse(`--threshold takes metric=max, e.g. --threshold queue_depth=1000; got "${item}"`);
    thresholds[match[1]!] = max;
  }
  return thresholds;
}

/** A whole number from `min` to `max` for `flag`. */
export function whole(flag: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) refuse(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  return n;
}

function percent(flag: string, text: string): number {
  const p = number(flag, text.replace(/%$/, ''));
  if (!(p > 0 && p <= 100)) refuse(`${flag} is a percentage in (0, 100], got "${text}"`);
  return p;
}

/** A number for `flag` for which `ok` holds, described as `what` when it does not. */
function between(flag: string, text: string, ok: (n: number) => boolean, what: string): number {
  const n = number(flag, text);
  if (!ok(n)) refuse(`${flag} must be ${what}, got "${text}"`);
  return n;
}

function number(flag: string, text: string): number {
  const n = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(n)) refuse(`${flag} must be a number, got "${text}"`);
  return n;
}

const FLAG_NAME: Readonly<Record<string, string>> = { CANARY: 'canary', BLUE_GREEN: 'blue-green', ROLLING: 'rolling', DIRECT: 'direct' };

function misplaced(flag: string, strategy: string, strategies: readonly string[]): CliError {
  const names = strategies.map((s) => FLAG_NAME[s]).join(', ');
  return new CliError([`${flag} does not apply to --strategy ${FLAG_NAME[strategy]} (only to ${names})`], ExitCode.REFUSED);
}

function refuse(line: string): never {
  throw new CliError([line], ExitCode.REFUSED);
}
