/**
 * The pieces of a metric verdict's reason sentence:
 * "error rate: canary median 2.1 % vs control 0.4 % (n=30/270), p=0.003, +1.7 points > tolerance 0.5: FAIL".
 * Shares read as percent (differences in points), latencies in ms, custom metrics as plain numbers.
 */

/** How a metric's values read: a share 0..1 shown as percent, milliseconds, or a plain number. */
export type MetricUnit = 'share' | 'ms' | 'plain';

/**
 * `value` with at most `decimals` decimals, no trailing zeros, no float noise
 * (under 1e-9 is 0), no "-0"; a non-zero value that would round to 0 keeps two
 * significant digits.
 * @example number(2.0999999, 1) → "2.1"; number(0.004, 1) → "0.004"; number(-1e-12, 1) → "0"
 */
function number(value: number, decimals: number): string {
  const tiny = Math.abs(value) >= 1e-9 && Math.abs(value) < 0.5 * 10 ** -decimals;
  const rounded = tiny ? Number(value.toPrecision(2)) : Number(value.toFixed(decimals));
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

/** In the unit's display scale: a share in percent (and its differences in points). */
function scaled(unit: MetricUnit, value: number): number {
  return unit === 'share' ? value * 100 : value;
}

/** A metric value: "2.1 %", "240 ms", "17.5". */
export function formatValue(unit: MetricUnit, value: number, decimals = 1): string {
  const text = number(scaled(unit, value), decimals);
  if (unit === 'share') return `${text} %`;
  if (unit === 'ms') return `${text} ms`;
  return text;
}

function signed(text: string): string {
  return text.startsWith('-') || text === '0' ? text : `+${text}`;
}

/** A signed difference of a metric: "+1.7 points", "-40 ms", "+3". */
export function formatDifference(unit: MetricUnit, difference: number, decimals = 1): string {
  const text = signed(number(scaled(unit, difference), decimals));
  if (unit === 'share') return `${text} ${text === '+1' || text === '-1' ? 'point' : 'points'}`;
  if (unit === 'ms') return `${text} ms`;
  return text;
}

/** A difference without its unit, as a tolerance or limit after a formatted difference: "0.5", "-20". */
export function formatAmount(unit: MetricUnit, amount: number, decimals = 1): string {
  return number(scaled(unit, amount), decimals);
}

/**
 * The fewest decimals (1 to 6) at which `a` and `b` read differently, or 1 when
 * they are equal: so "+0.54 > 0.5" never prints as "+0.5 > 0.5".
 */
export function decimalsToTell(unit: MetricUnit, a: number, b: number): number {
  let decimals = 1;
  while (decimals < 6 && a !== b && formatAmount(unit, a, decimals) === formatAmount(unit, b, decimals)) decimals += 1;
  return decimals;
}

/**
 * "p=0.003", "p=0.31", "p<0.001", "p=1": three decimals, cut rather than
 * rounded, so that a p-value under a level of up to three decimals (0.02,
 * 0.05, 0.001) never reads as equal to it.
 */
export function formatPValue(p: number): string {
  if (p < 0.001) return 'p<0.001';
  // The factor absorbs float noise: 0.29 * 1000 is 289.99999999999994.
  return `p=${Math.floor(p * 1000 * (1 + 1e-12)) / 1000}`;
}
