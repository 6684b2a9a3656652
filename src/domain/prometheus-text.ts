/**
 * The Prometheus text exposition format 0.0.4, as a service's `/metrics`
 * answers it, parsed into samples. OpenMetrics text is read too: `# EOF` ends
 * the body, `# UNIT` and other comments are skipped, exemplars (` # {…} v`
 * after a sample) are dropped, and `_total`/`_created` samples are samples
 * like any other (the name as written is the sample's name). Pure, no I/O.
 *
 * @example parsePrometheusText('# TYPE http_requests_total counter\nhttp_requests_total{code="500"} 3 1700000000000\n')
 *   → { samples: [{ name: 'http_requests_total', labels: { code: '500' }, value: 3, timestamp: 1700000000000 }],
 *       families: Map { 'http_requests_total' => { type: 'counter' } } }
 */

/** The types a `# TYPE` line may name: the text format's and OpenMetrics'. */
export const METRIC_TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown', 'gaugehistogram', 'info', 'stateset'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export interface Sample {
  name: string;
  /** Label values unescaped; an object without prototype (a label may be called `__proto__`). */
  labels: Readonly<Record<string, string>>;
  /** NaN, +Inf and -Inf as written. */
  value: number;
  /** As written: ms since the epoch in the text format 0.0.4, seconds in OpenMetrics; absent when none is. */
  timestamp?: number;
}

export interface FamilyInfo {
  type?: MetricType;
  help?: string;
}

export interface Exposition {
  /** In the order written. */
  samples: Sample[];
  /** `# TYPE` and `# HELP` by the name they follow (a family's, which for OpenMetrics counters lacks `_total`); the first of each wins. */
  families: Map<string, FamilyInfo>;
}

export interface ParseLimits {
  /** Longest body, in UTF-16 code units. @default MAX_BODY_CHARS */
  maxChars?: number;
  /** Longest line, in UTF-16 code units. @default MAX_LINE_CHARS */
  maxLineChars?: number;
}

/** 10 MiB: far beyond a service's own metrics (cAdvisor's run to a few MB); refusing more keeps a runaway exporter from eating the agent's memory. */
export const MAX_BODY_CHARS = 10 * 1024 * 1024;
/** 64 KiB: room for long label values (URLs, build info) while a line without newlines is refused early. */
export const MAX_LINE_CHARS = 64 * 1024;

/** A body that is not the text format; `lineNumber` counts from 1 (0 for the body as a whole). */
export class PrometheusTextError extends Error {
  constructor(
    readonly lineNumber: number,
    reason: string,
  ) {
    super(lineNumber > 0 ? `line ${lineNumber}: ${reason}` : reason);
    this.name = 'PrometheusTextError';
  }
}

function fail(lineNumber: number, reason: string): never {
  throw new PrometheusTextError(lineNumber, reason);
}

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;

/**
 * A float as Prometheus writes one (Go's ParseFloat, decimal only): `1`, `-2.5e-3`,
 * `NaN`, `+Inf`, `-Inf`, case-insensitive (prom-client writes `Nan`); undefined otherwise.
 * Stricter than Number(), which reads '' as 0 and '0x10' as 16.
 */
export function parsePrometheusFloat(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text);
  const inf = INFINITY.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  return /^[+-]?nan$/i.test(text) ? NaN : undefined;
}

/** A quoted line at its `start` (the opening quote), per the text format: `\\`, `\"` and `\n` escapes; others kept as written, as Prometheus does. */
function readQuoted(line: string, start: number, lineNumber: number): { text: string; end: number } {
  let text = '';
  for (let i = start + 1; i < line.length; i++) {
    const c = line[i];
    if (c === '"') return { text, end: i + 1 };
    if (c !== '\\') text += c;
    else {
      const next = line[++i];
      if (next === undefined) break;
      text += next === 'n' ? '\n' : next === '\\' || next === '"' ? next : `\\${next}`;
    }
  }
  return fail(lineNumber, `unterminated quoted value starting at column ${start + 1}`);
}

function parseSample(line: string, lineNumber: number): Sample {
  let i = 0;
  const skipBlanks = () => {
    while (line[i] === ' ' || line[i] === '\t') i++;
  };
  const readToken = (pattern: RegExp, what: string): string => {
    pattern.lastIndex = i;
    const match = pattern.exec(line);
    if (!match) return fail(lineNumber, `expected ${what} at column ${i + 1}, found ${JSON.stringify(line.slice(i, i + 20))}`);
    i = pattern.lastIndex;
    return match[0];
  };
  const name = readToken(METRIC_NAME, 'a metric name');
  if (i < line.length && !' \t{'.includes(line.charAt(i))) fail(lineNumber, `unexpected ${JSON.stringify(line[i])} in the metric name ${name}`);
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  skipBlanks();
  if (line[i] === '{') {
    i++;
    for (skipBlanks(); line[i] !== '}'; skipBlanks()) {
      if (i >= line.length) fail(lineNumber, 'unterminated label set: no closing "}"');
      const label = readToken(LABEL_NAME, 'a label name');
      skipBlanks();
      if (line[i] !== '=') fail(lineNumber, `expected "=" after label ${label}`);
      i++;
      skipBlanks();
      if (line[i] !== '"') fail(lineNumber, `expected a quoted value for label ${label}`);
      const { text, end } = readQuoted(line, i, lineNumber);
      if (label in labels) fail(lineNumber, `label ${label} given twice`);
      labels[label] = text;
      i = end;
      skipBlanks();
      if (line[i] === ',') i++;
      else if (line[i] !== '}') fail(lineNumber, `expected "," or "}" after the value of label ${label}`);
    }
    i++;
  }
  const rest = line.slice(i).trim();
  // OpenMetrics: an exemplar follows ` # `; it is not the sample's value.
  const hash = rest.indexOf(' #');
  const tokens = (hash >= 0 ? rest.slice(0, hash) : rest).split(/[ \t]+/).filter(Boolean);
  if (tokens.length === 0) fail(lineNumber, `no value after ${name}`);
  if (tokens.length > 2) fail(lineNumber, `unexpected ${JSON.stringify(tokens[2])} after the value and timestamp of ${name}`);
  const value = parsePrometheusFloat(tokens[0] ?? '');
  if (value === undefined) fail(lineNumber, `value ${JSON.stringify(tokens[0])} of ${name} is not a number`);
  const sample: Sample = { name, labels, value };
  if (tokens[1] !== undefined) {
    const timestamp = parsePrometheusFloat(tokens[1]);
    if (timestamp === undefined || !Number.isFinite(timestamp)) fail(lineNumber, `timestamp ${JSON.stringify(tokens[1])} of ${name} is not a number`);
    sample.timestamp = timestamp;
  }
  return sample;
}

/** `# HELP name text` and `# TYPE name type` into `families`; other comments are skipped. @returns true at `# EOF` */
function parseComment(line: string, lineNumber: number, families: Map<string, FamilyInfo>): boolean {
  const words = /^#[ \t]*(\S+)(?:[ \t]+(\S+))?(?:[ \t]+(.*))?$/.exec(line);
  const [, keyword, name, rest = ''] = words ?? [];
  if (keyword === 'EOF' && name === undefined) return true;
  if (keyword !== 'HELP' && keyword !== 'TYPE') return false;
  if (name === undefined) throw new PrometheusTextError(lineNumber, `# ${keyword} without a metric name`);
  const info = families.get(name) ?? {};
  families.set(name, info);
  if (keyword === 'HELP') {
    info.help ??= rest.replace(/\\(.)/g, (escape, c: string) => (c === 'n' ? '\n' : c === '\\' ? '\\' : escape));
    return false;
  }
  const type = rest.trim().toLowerCase();
  if (!(METRIC_TYPES as readonly string[]).includes(type)) throw new PrometheusTextError(lineNumber, `# TYPE ${name}: unknown type ${JSON.stringify(rest.trim())}`);
  info.type ??= type as MetricType;
  return false;
}

/**
 * The samples and families of a text-format body. Blank lines are skipped; `\r\n` line ends are read too.
 *
 * @throws PrometheusTextError naming the first bad line, or the body's size when it is over `limits`
 */
export function parsePrometheusText(text: string, limits: ParseLimits = {}): Exposition {
  const maxChars = limits.maxChars ?? MAX_BODY_CHARS;
  const maxLineChars = limits.maxLineChars ?? MAX_LINE_CHARS;
  if (text.length > maxChars) throw new PrometheusTextError(0, `body of ${text.length} characters is over the limit of ${maxChars}`);
  const samples: Sample[] = [];
  const families = new Map<string, FamilyInfo>();
  let start = 0;
  for (let lineNumber = 1; start < text.length; lineNumber++) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    if (end - start > maxLineChars) throw new PrometheusTextError(lineNumber, `line of ${end - start} characters is over the limit of ${maxLineChars}`);
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (parseComment(line, lineNumber, families)) break;
    } else samples.push(parseSample(line, lineNumber));
  }
  return { samples, families };
}
