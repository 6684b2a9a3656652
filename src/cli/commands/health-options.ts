/**
 * The parts of `hotswap deploy`'s health policy that are more than one number:
 * `--metric` specs and `--health-policy-file`, each turned into (part of) the
 * HealthPolicyInput of startDeployment. The server checks every value again;
 * these checks only make a mistake one clear line that names the flag.
 */
import { CliError, ExitCode } from '../exit-codes.js';

/** One entry of HealthPolicyInput.metrics, as sent: unit and direction by their API names (MS, INCREASE). */
export interface MetricInput {
  name: string;
  query?: string;
  unit?: string;
  direction?: string;
  critical?: boolean;
  weight?: number;
  /** null clears a tolerance the policy file gave, so tolerancePct applies. */
  tolerance?: number | null;
  tolerancePct?: number;
}

/** HealthPolicyInput of startDeployment, as the CLI sends it. */
export interface HealthOptions {
  maxErrorRateIncrease?: number;
  maxLatencyIncreasePct?: number;
  customThresholds?: Record<string, number>;
  autoRollback?: boolean;
  minHeartbeats?: number;
  evidenceTimeoutSeconds?: number;
  onInconclusive?: string;
  confidence?: number;
  minSamples?: number;
  passThreshold?: number;
  marginalThreshold?: number;
  metrics?: MetricInput[];
}

const POLICY_FIELDS: ReadonlyArray<keyof HealthOptions> = [
  'maxErrorRateIncrease', 'maxLatencyIncreasePct', 'customThresholds', 'autoRollback', 'minHeartbeats', 'evidenceTimeoutSeconds',
  'onInconclusive', 'confidence', 'minSamples', 'passThreshold', 'marginalThreshold', 'metrics',
];
const METRIC_FIELDS: ReadonlyArray<keyof MetricInput> = ['name', 'query', 'unit', 'direction', 'critical', 'weight', 'tolerance', 'tolerancePct'];
const UNITS = ['share', 'ms', 'plain'];
const DIRECTIONS = ['increase', 'decrease'];
/** What a `--metric` name may be: the server's rule, less ':', which ends the name. */
const METRIC_NAME = /^[A-Za-z_][\w.-]{0,63}$/;

/** The --metric syntax, for the flag's help and its errors. */
export const METRIC_SPEC_HELP =
  'name[:option,…] with options critical, unit=share|ms|plain, direction=increase|decrease, weight=N, tolerance=X, tolerancePct=P, ' +
  'query=PROMQL (a comma inside its brackets or quotes stays in the query)';

const OPENING: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };

/**
 * `text` split at its commas outside brackets and quotes: a PromQL query's
 * commas are all inside (arguments, label matchers, `by (a, b)`), so one
 * splits off whole wherever it stands. null when a bracket or quote is left open.
 * @example splitOptions('query=sum by (a, b) (x{c="d,e"}),unit=ms') → ['query=sum by (a, b) (x{c="d,e"})', 'unit=ms']
 */
function splitOptions(text: string): string[] | null {
  const parts: string[] = [];
  const open: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== null) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '[' || c === '{') open.push(c);
    else if (c === ')' || c === ']' || c === '}') {
      if (open.pop() !== OPENING[c]) return null;
    } else if (c === ',' && open.length === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quote !== null || open.length > 0) return null;
  return [...parts, text.slice(start)];
}

/**
 * A `--metric` spec: the metric's name, then after a ':' its options separated
 * by commas, in any order. A comma inside brackets or quotes belongs to the
 * option it is in, so a PromQL query keeps its commas. A name with ':' in it
 * goes in --health-policy-file.
 *
 * @example parseMetricSpec('queueDepth:critical,tolerance=5') → { name: 'queueDepth', critical: true, tolerance: 5 }
 * @example parseMetricSpec('p99:query=histogram_quantile(0.99, sum by (le) (rate(x[1m]))),unit=ms')
 *   → { name: 'p99', query: 'histogram_quantile(0.99, sum by (le) (rate(x[1m])))', unit: 'MS' }
 */
export function parseMetricSpec(spec: string): MetricInput {
  const colon = spec.indexOf(':');
  const name = (colon < 0 ? spec : spec.slice(0, colon)).trim();
  const fail = (why: string): never => refuse(`--metric "${spec.length > 80 ? `${spec.slice(0, 77)}…` : spec}": ${why}`);
  if (!METRIC_NAME.test(name)) fail(`the name must be 1 to 64 letters, digits, _ . - starting with a letter or _; the spec is ${METRIC_SPEC_HELP}`);
  const metric: MetricInput = { name };
  const options = colon < 0 ? [] : (splitOptions(spec.slice(colon + 1)) ?? fail('its brackets or quotes do not match'));
  for (const option of options) {
    if (option.trim() === '') continue;
    const eq = option.indexOf('=');
    const key = (eq < 0 ? option : option.slice(0, eq)).trim();
    const value = eq < 0 ? null : option.slice(eq + 1).trim();
    if (!(METRIC_FIELDS as readonly string[]).includes(key) || key === 'name') fail(`unknown option "${key}"; the spec is ${METRIC_SPEC_HELP}`);
    if (metric[key as keyof MetricInput] !== undefined) fail(`${key} is given twice`);
    const needValue = (what: string): string => (value === null || value === '' ? fail(`${key}= needs ${what}`) : value);
    const amount = (min: number, max: number, what: string): number => {
      const text = needValue(what);
      const n = Number(text);
      return Number.isFinite(n) && n >= min && n <= max ? n : fail(`${key} must be ${what}, got "${text}"`);
    };
    switch (key) {
      case 'critical':
        if (value !== null && value !== 'true' && value !== 'false') fail(`critical is critical, critical=true or critical=false, got "${option}"`);
        metric.critical = value !== 'false';
        break;
      case 'unit':
        metric.unit = oneOf(needValue(UNITS.join('|')), UNITS) ?? fail(`unit must be ${UNITS.join(', ')}, got "${value}"`);
        break;
      case 'direction':
        metric.direction = oneOf(needValue(DIRECTIONS.join('|')), DIRECTIONS) ?? fail(`direction must be ${DIRECTIONS.join(' or ')} (the way that is worse), got "${value}"`);
        break;
      case 'weight':
        metric.weight = amount(0, 1000, 'a weight from 0 to 1000');
        break;
      case 'tolerance':
        metric.tolerance = amount(0, Number.MAX_VALUE, "a number ≥ 0 in the metric's unit (a share for unit=share: 0.005 = half a point)");
        break;
      case 'tolerancePct':
        metric.tolerancePct = amount(0, Number.MAX_VALUE, "a percentage ≥ 0 of the control's median");
        break;
      case 'query':
        metric.query = needValue('a PromQL query');
        break;
    }
  }
  return metric;
}

/** `value` as the API's enum name when it is one of `allowed` (any case), else null. */
function oneOf(value: string, allowed: readonly string[]): string | null {
  return allowed.includes(value.toLowerCase()) ? value.toUpperCase() : null;
}

/**
 * The HealthPolicyInput of a --health-policy-file document: an object of its
 * fields (unit, direction and onInconclusive in any case). Only the shape is
 * checked here; the server checks the values and names the field it refuses.
 */
export function policyFromDocument(doc: unknown, file: string): HealthOptions {
  const where = `--health-policy-file ${file}`;
  if (!isObject(doc)) refuse(`${where}: must hold a JSON object of HealthPolicyInput fields (${POLICY_FIELDS.join(', ')})`);
  const unknown = Object.keys(doc).filter((k) => !(POLICY_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) refuse(`${where}: unknown field ${unknown.join(', ')}; HealthPolicyInput has ${POLICY_FIELDS.join(', ')}`);
  const policy = { ...doc } as HealthOptions & Record<string, unknown>;
  if (typeof policy.onInconclusive === 'string') policy.onInconclusive = policy.onInconclusive.toUpperCase();
  if (policy.metrics !== undefined && policy.metrics !== null) {
    if (!Array.isArray(policy.metrics)) refuse(`${where}: metrics must be a list of { name, query, unit, … }`);
    policy.metrics = (policy.metrics as unknown[]).map((m, i) => {
      if (!isObject(m) || typeof m.name !== 'string') refuse(`${where}: metrics[${i}] must be an object with a name`);
      const extra = Object.keys(m).filter((k) => !(METRIC_FIELDS as readonly string[]).includes(k));
      if (extra.length > 0) refuse(`${where}: metrics[${i}] (${m.name}): unknown field ${extra.join(', ')}; a metric has ${METRIC_FIELDS.join(', ')}`);
      const metric = { ...m } as MetricInput & Record<string, unknown>;
      if (typeof metric.unit === 'string') metric.unit = metric.unit.toUpperCase();
      if (typeof metric.direction === 'string') metric.direction = metric.direction.toUpperCase();
      return metric;
    });
  }
  return policy;
}

/** `base` with each metric of `over` merged into the one of the same name (its fields replace those given), or added. */
export function mergeMetrics(base: readonly MetricInput[], over: readonly MetricInput[]): MetricInput[] {
  const merged = [...base];
  for (const m of over) {
    const at = merged.findIndex((b) => b.name === m.name);
    if (at < 0) merged.push(m);
    else merged[at] = { ...merged[at], ...m };
  }
  return merged;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function refuse(line: string): never {
  throw new CliError([line], ExitCode.REFUSED);
}
