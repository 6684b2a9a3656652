import type { Strategy } from './queries';

/** The start form as typed: strings, as inputs hold them; `toInput` reads them. */
export interface StartForm {
  profileName: string;
  version: string;
  strategy: Strategy;
  ackTimeoutSeconds: string;
  /** Canary phases as percents of the instances, e.g. "10, 30, 50, 100". */
  canaryPhases: string;
  bakeSeconds: string;
  batchMode: 'size' | 'percent';
  batch: string;
  intervalSeconds: string;
  verifySeconds: string;
  maxConcurrency: string;
  autoRollback: boolean;
  onInconclusive: 'PAUSE' | 'PROMOTE';
  /** Percentage points, e.g. "5" = +5 points of error rate. */
  maxErrorRatePoints: string;
  maxLatencyIncreasePct: string;
  minHeartbeats: string;
  minSamples: string;
  confidence: string;
  evidenceTimeoutSeconds: string;
}

export const DEFAULT_FORM: StartForm = {
  profileName: '',
  version: '',
  strategy: 'CANARY',
  ackTimeoutSeconds: '30',
  canaryPhases: '10, 30, 50, 100',
  bakeSeconds: '60',
  batchMode: 'percent',
  batch: '25',
  intervalSeconds: '30',
  verifySeconds: '60',
  maxConcurrency: '100',
  autoRollback: true,
  onInconclusive: 'PAUSE',
  maxErrorRatePoints: '',
  maxLatencyIncreasePct: '',
  minHeartbeats: '',
  minSamples: '',
  confidence: '',
  evidenceTimeoutSeconds: '',
};

type Result = { input: Record<string, unknown>; problems: [] } | { input: null; problems: string[] };

/** The StartDeploymentInput the form describes, or what is wrong with it (the server checks again). */
export function toInput(f: StartForm): Result {
  const problems: string[] = [];
  const num = (raw: string, what: string, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined => {
    if (raw.trim() === '') return undefined;
    const n = Number(raw);
    const bad = !Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max);
    if (bad) problems.push(`${what} must be ${opts.int ? 'a whole number' : 'a number'}${opts.min !== undefined ? ` from ${opts.min}` : ''}${opts.max !== undefined ? ` to ${opts.max}` : ''}.`);
    return bad ? undefined : n;
  };
  if (!f.profileName) problems.push('Pick a profile.');
  const version = num(f.version, 'Version', { int: true, min: 1 });
  if (f.version.trim() === '') problems.push('Give the version to deploy.');
  const input: Record<string, unknown> = { profileName: f.profileName, version, strategy: f.strategy };
  const ack = num(f.ackTimeoutSeconds, 'Ack timeout', { int: true, min: 1 });
  if (ack !== undefined) input.ackTimeoutSeconds = ack;
  if (f.strategy === 'CANARY') {
    const parts = f.canaryPhases.split(/[,\s]+/).filter(Boolean);
    const phases = parts.map((p) => Number(p.replace('%', '')) / 100);
    if (parts.length === 0 || phases.some((p) => !Number.isFinite(p) || p <= 0 || p > 1)) problems.push('Canary phases are percents above 0 up to 100, e.g. 10, 30, 50, 100.');
    input.canary = { phases, bakeSeconds: num(f.bakeSeconds, 'Bake', { int: true, min: 0 }) };
  } else if (f.strategy === 'ROLLING') {
    const batch = num(f.batch, f.batchMode === 'size' ? 'Batch size' : 'Batch percent', { min: f.batchMode === 'size' ? 1 : 0, max: f.batchMode === 'size' ? undefined : 100 });
    input.rolling = {
      ...(f.batchMode === 'size' ? { batchSize: batch } : { batchPercent: batch === undefined ? undefined : batch / 100 }),
      intervalSeconds: num(f.intervalSeconds, 'Interval', { int: true, min: 0 }),
    };
  } else if (f.strategy === 'BLUE_GREEN') {
    input.blueGreen = { verifySeconds: num(f.verifySeconds, 'Verification', { int: true, min: 0 }) };
  } else {
    input.direct = { maxConcurrency: num(f.maxConcurrency, 'Concurrency', { int: true, min: 1 }) };
  }
  if (f.strategy !== 'DIRECT') {
    const points = num(f.maxErrorRatePoints, 'Error rate limit', { min: 0, max: 100 });
    input.health = {
      autoRollback: f.autoRollback,
      onInconclusive: f.onInconclusive,
      maxErrorRateIncrease: points === undefined ? undefined : points / 100,
      maxLatencyIncreasePct: num(f.maxLatencyIncreasePct, 'Latency limit', { min: 0 }),
      minHeartbeats: num(f.minHeartbeats, 'Heartbeats', { int: true, min: 1, max: 20 }),
      minSamples: num(f.minSamples, 'Samples', { int: true, min: 1, max: 1000 }),
      confidence: num(f.confidence, 'Confidence', { min: 0.5, max: 0.999 }),
      evidenceTimeoutSeconds: num(f.evidenceTimeoutSeconds, 'Evidence timeout', { int: true, min: 1 }),
    };
  }
  return problems.length ? { input: null, problems } : { input: JSON.parse(JSON.stringify(input)) as Record<string, unknown>, problems: [] };
}
