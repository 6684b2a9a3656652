/**
 * Combines a phase's metric verdicts into one, as Kayenta's NetflixACAJudge
 * does: critical metrics veto, the rest make a weighted score held to a pass
 * threshold and a marginal band.
 */
import { HealthVerdict } from '../enums.js';
import { type MetricVerdict, MetricOutcome } from './metric-verdict.js';

/** What the metrics together say about a phase. */
export enum ScoreOutcome {
  PASS = 'PASS',
  FAIL = 'FAIL',
  /**
   * The score is in the band between the marginal and the pass threshold: not
   * bad enough to roll back, not good enough to go on. The phase treats it as
   * INCONCLUSIVE and keeps observing (see {@link healthVerdictOf}).
   */
  MARGINAL = 'MARGINAL',
  /** No scored metric has data, or a critical one has none: INCONCLUSIVE, keep observing. */
  NO_DATA = 'NO_DATA',
}

/**
 * A phase passes at a score of 0.95 or more: the value Spinnaker canary
 * configurations commonly use. With the few metrics a HotSwap policy names
 * (error rate, p99 latency, some custom ones) any FAIL keeps a phase from
 * passing; a FAIL is outweighed only among about 20 equally weighted metrics,
 * where one false alarm is to be expected.
 */
export const DEFAULT_PASS_THRESHOLD = 0.95;

/**
 * Below 0.75 a phase fails (Spinnaker's common marginal value): more than a
 * quarter of the weight failing is a regression, not a false alarm. Between it
 * and the pass threshold the phase is MARGINAL and keeps observing.
 */
export const DEFAULT_MARGINAL_THRESHOLD = 0.75;

export interface ScoreThresholds {
  /** @default DEFAULT_PASS_THRESHOLD (0.95) */
  pass?: number;
  /** @default DEFAULT_MARGINAL_THRESHOLD (0.75) */
  marginal?: number;
}

export interface PhaseScore {
  verdict: ScoreOutcome;
  /** Weight of the PASSing metrics over the weight of those with data, 0..1; null when no weighted metric has data. */
  score: number | null;
  /** The verdicts scored, in the order given. */
  metrics: MetricVerdict[];
  /** One sentence ending in the verdict: "score 0.5 (1 of 2 metrics passed) < marginal 0.75: FAIL". */
  reason: string;
}

/** Comparisons tolerate float noise: weights 0.1 × 10 make a score of 1, not 0.9999999999999999. */
const EPSILON = 1e-9;

function plural(count: number, word: string): string {
  return `${word}${count === 1 ? '' : 's'}`;
}

/** "critical metric error rate", "critical metrics error rate, p99 latency". */
function critical(metrics: readonly MetricVerdict[]): string {
  return `critical ${plural(metrics.length, 'metric')} ${metrics.map((m) => m.name).join(', ')}`;
}

/** Two decimals cut, not rounded, so that 0.949 never reads as a pass threshold of 0.95 it missed. */
function shown(score: number): number {
  return Math.floor(score * 100 + EPSILON) / 100;
}

/**
 * The phase's verdict from its metrics:
 * - a critical metric FAILed → FAIL, whatever the others say;
 * - a critical metric has NO_DATA → NO_DATA: the phase cannot pass without it;
 * - otherwise the score, the weight of the PASSing metrics over the weight of
 *   all metrics with data (NO_DATA ones and weight 0 ones are left out): at or
 *   above `pass` → PASS, below `marginal` → FAIL, between → MARGINAL;
 * - no metric with data and weight → NO_DATA.
 *
 * @example scorePhase([errorRate PASS w1, latency FAIL w1]) → { verdict: FAIL, score: 0.5, … }
 * @throws RangeError unless 0 ≤ marginal ≤ pass ≤ 1
 */
export function scorePhase(metrics: readonly MetricVerdict[], thresholds: ScoreThresholds = {}): PhaseScore {
  const pass = thresholds.pass ?? DEFAULT_PASS_THRESHOLD;
  const marginal = thresholds.marginal ?? DEFAULT_MARGINAL_THRESHOLD;
  if (!(marginal >= 0 && marginal <= pass && pass <= 1)) {
    throw new RangeError(`score thresholds need 0 ≤ marginal ≤ pass ≤ 1, got marginal ${marginal}, pass ${pass}`);
  }
  const result = (verdict: ScoreOutcome, score: number | null, reason: string): PhaseScore => ({
    verdict,
    score,
    metrics: [...metrics],
    reason: `${reason}: ${verdict}`,
  });

  const criticalFailures = metrics.filter((m) => m.critical && m.verdict === MetricOutcome.FAIL);
  if (criticalFailures.length > 0) {
    return result(ScoreOutcome.FAIL, null, `${critical(criticalFailures)} failed`);
  }
  const criticalMissing = metrics.filter((m) => m.critical && m.verdict === MetricOutcome.NO_DATA);
  if (criticalMissing.length > 0) {
    return result(ScoreOutcome.NO_DATA, null, `${critical(criticalMissing)} without enough data`);
  }
  const scored = metrics.filter((m) => m.verdict !== MetricOutcome.NO_DATA && m.weight > 0);
  const total = scored.reduce((sum, m) => sum + m.weight, 0);
  if (scored.length === 0) return result(ScoreOutcome.NO_DATA, null, 'no weighted metric has enough data');

  const passed = scored.filter((m) => m.verdict === MetricOutcome.PASS);
  const score = passed.reduce((sum, m) => sum + m.weight, 0) / total;
  const head = `score ${shown(score)} (${passed.length} of ${scored.length} ${plural(scored.length, 'metric')} passed${scored.some((m) => m.weight !== scored[0]!.weight) ? ', by weight' : ''})`;
  if (score >= pass - EPSILON) return result(ScoreOutcome.PASS, score, `${head} ≥ pass ${pass}`);
  if (score < marginal - EPSILON) return result(ScoreOutcome.FAIL, score, `${head} < marginal ${marginal}`);
  return result(ScoreOutcome.MARGINAL, score, `${head} between marginal ${marginal} and pass ${pass}`);
}

/** The health verdict a phase acts on: MARGINAL and NO_DATA are INCONCLUSIVE, the phase keeps observing. */
export function healthVerdictOf(outcome: ScoreOutcome): HealthVerdict {
  if (outcome === ScoreOutcome.PASS) return HealthVerdict.PASS;
  if (outcome === ScoreOutcome.FAIL) return HealthVerdict.FAIL;
  return HealthVerdict.INCONCLUSIVE;
}
