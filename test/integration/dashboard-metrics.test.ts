import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The Grafana dashboard and the Prometheus rules against what a real server
 * exports: every metric they query must be a family of its /metrics scrape,
 * and the fleet-wide gauges (reported identically by every replica) must be
 * aggregated with max(), never sum().
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DASHBOARD = 'dashboards/hotswap.json';
const ALERTS = 'dashboards/alerts.yml';

/** Series Prometheus makes itself for every target: never in a scrape. */
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added', 'ALERTS', 'ALERTS_FOR_STATE']);

/** The gauges every replica reports with the same fleet-wide value. */
const FLEET_WIDE = ['hotswap_active_deployments', 'hotswap_registered_instances'];

// --- A small PromQL reader: enough to find metric names and what aggregates them ---

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'atan2', ...LABEL_LISTS]);

interface Token {
  kind: 'ident' | 'open' | 'close' | 'other';
  text: string;
}

/** Tokens of an expression, with strings, comments, label matchers `{…}` and ranges `[…]` dropped. */
function tokenize(expr: string): Token[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#[^\n]*/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const tokens: Token[] = [];
  const re = /\s+|\$\{[^}]*\}|\$\w+|\d[\w.]*|\.\d\w*|([a-zA-Z_:][\w:]*)|(\()|(\))|./g;
  for (const m of text.matchAll(re)) {
    if (/^\s+$/.test(m[0])) continue;
    if (m[1] !== undefined) tokens.push({ kind: 'ident', text: m[1] });
    else if (m[2] !== undefined) tokens.push({ kind: 'open', text: '(' });
    else if (m[3] !== undefined) tokens.push({ kind: 'close', text: ')' });
    else tokens.push({ kind: 'other', text: m[0] });
  }
  return tokens;
}

interface MetricUse {
  name: string;
  /** The aggregation operators around it, innermost first. */
  aggregations: string[];
}

/** Every metric name an expression selects, with the aggregations around each occurrence. */
function metricUses(expr: string): MetricUse[] {
  const tokens = tokenize(expr);
  // One frame per open parenthesis: what it belongs to (a function or aggregation name, 'labels' for a label list, null for grouping).
  const frames: Array<{ of: string | null; aggregation?: string | null }> = [];
  // Set right after a label list of an aggregation closed: `max by (a) (x)`'s own parenthesis comes next.
  let pending: string | null = null;
  const uses: MetricUse[] = [];
  tokens.forEach((t, i) => {
    const prev = tokens[i - 1];
    if (t.kind === 'open') {
      if (prev?.kind === 'ident' && LABEL_LISTS.has(prev.text.toLowerCase())) {
        const owner = tokens[i - 2];
        frames.push({ of: 'labels', aggregation: owner?.kind === 'ident' && AGGREGATIONS.has(owner.text) ? owner.text : null });
      } else if (prev?.kind === 'ident') {
        frames.push({ of: prev.text });
      } else {
        frames.push({ of: pending });
      }
      pending = null;
      return;
    }
    if (t.kind === 'close') {
      const closed = frames.pop();
      if (!closed) throw new Error(`unbalanced parentheses in ${expr}`);
      pending = closed.of === 'labels' ? (closed.aggregation ?? null) : null;
      return;
    }
    pending = null;
    if (t.kind !== 'ident' || frames.at(-1)?.of === 'labels') return;
    const next = tokens[i + 1];
    if (next?.kind === 'open') return; // a function or an aggregation
    if (AGGREGATIONS.has(t.text) && next?.kind === 'ident' && LABEL_LISTS.has(next.text.toLowerCase())) return; // `sum by (…) (…)`
    if (KEYWORDS.has(t.text.toLowerCase())) return;
    const aggregations = frames
      .map((f) => f.of)
      .filter((f): f is string => f !== null && AGGREGATIONS.has(f))
      .reverse();
    uses.push({ name: t.text, aggregations });
  });
  if (frames.length !== 0) throw new Error(`unbalanced parentheses in ${expr}`);
  return uses;
}

// --- The files -----------------------------------------------------------------

interface Expression {
  where: string;
  expr: string;
}

/** Every `expr` anywhere in the dashboard (panel targets, nested rows, annotations), and the query variables. */
function dashboardExpressions(): Expression[] {
  const dashboard = JSON.parse(readFileSync(`${ROOT}${DASHBOARD}`, 'utf8')) as unknown;
  const found: Expression[] = [];
  const walk = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => walk(n, `${where}[${i}]`));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const here = typeof o.title === 'string' ? `${where} "${o.title}"` : where;
    if (typeof o.expr === 'string') found.push({ where: here, expr: o.expr });
    // A query variable, e.g. label_values(hotswap_registered_instances, service): the selector part is PromQL.
    if (o.type === 'query') {
      const q = typeof o.query === 'string' ? o.query : (o.query as { query?: unknown } | undefined)?.query;
      if (typeof q === 'string') {
        const lv = /^\s*label_values\(\s*(.+?)\s*,\s*\w+\s*\)\s*$/.exec(q);
        if (lv) found.push({ where: `${here} (variable)`, expr: lv[1]! });
        else if (!/^\s*label_values\(\s*\w+\s*\)\s*$/.test(q) && !/^\s*label_names\(/.test(q)) found.push({ where: `${here} (variable)`, expr: q });
      }
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'query') walk(v, `${here}.${k}`);
  };
  walk(dashboard, 'dashboard');
  return found;
}

interface Rules {
  expressions: Expression[];
  /** Names of recording rules: queries may use them. */
  recorded: Set<string>;
  alerts: string[];
}

function ruleExpressions(): Rules {
  const doc = parse(readFileSync(`${ROOT}${ALERTS}`, 'utf8')) as { groups?: Array<{ name: string; rules?: Array<Record<string, unknown>> }> };
  const expressions: Expression[] = [];
  const recorded = new Set<string>();
  const alerts: string[] = [];
  for (const group of doc.groups ?? []) {
    for (const rule of group.rules ?? []) {
      const name = String(rule.alert ?? rule.record);
      if (typeof rule.record === 'string') recorded.add(rule.record);
      if (typeof rule.alert === 'string') alerts.push(rule.alert);
      expressions.push({ where: `${group.name}/${name}`, expr: String(rule.expr) });
    }
  }
  return { expressions, recorded, alerts };
}

// --- The scrape ------------------------------------------------------------------

/** Metric family name → type, from the `# TYPE` lines of the exposition. */
function familiesOf(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2]!);
  return families;
}

/** The exported family a series name belongs to (a histogram's _bucket/_sum/_count belong to it), if any. */
function familyOf(families: Map<string, string>, series: string): string | undefined {
  if (families.has(series)) return series;
  const m = /^(.+)_(bucket|sum|count)$/.exec(series);
  if (!m) return undefined;
  const type = families.get(m[1]!);
  if (type === 'histogram' || (type === 'summary' && m[2] !== 'bucket')) return m[1];
  return undefined;
}

describe('the dashboard and the alert rules against a real /metrics scrape', () => {
  let server: TestServer;
  let families: Map<string, string>;

  beforeAll(async () => {
    server = await startTestServer();
    const res = await fetch(new URL('/metrics', server.url));
    expect(res.status).toBe(200);
    families = familiesOf(await res.text());
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** The names `expressions` use that the scrape does not export, as "where: name". */
  function missing(expressions: Expression[], allowed: Set<string> = new Set()): string[] {
    const out: string[] = [];
    for (const { where, expr } of expressions) {
      for (const { name } of metricUses(expr)) {
        if (SYNTHETIC.has(name) || allowed.has(name) || familyOf(families, name) !== undefined) continue;
        out.push(`${where}: ${name}`);
      }
    }
    return out;
  }

  const namesIn = (expressions: Expression[]): Set<string> => new Set(expressions.flatMap((e) => metricUses(e.expr).map((u) => u.name)));

  it('reads metric names and their aggregations out of PromQL (the reader the checks below rely on)', () => {
    const uses = metricUses(`
      histogram_quantile(0.99, sum by (instance, le) (rate(foo_seconds_bucket{job="x", le!="1"}[$__rate_interval])))
      / on (instance) group_left (colour) max without (a) (bar_total offset 5m) # a comment with baz_total
      and sum(max by (s) (gauge_a{s=~"$environment"})) or avg(quux) > bool 0.5 unless absent(up{job="hotswap"})
      or vector(0) * time() - max(sum(gauge_b))`);
    expect(uses).toEqual([
      { name: 'foo_seconds_bucket', aggregations: ['sum'] },
      { name: 'bar_total', aggregations: ['max'] },
      { name: 'gauge_a', aggregations: ['max', 'sum'] },
      { name: 'quux', aggregations: ['avg'] },
      { name: 'up', aggregations: [] },
      { name: 'gauge_b', aggregations: ['sum', 'max'] },
    ]);
    expect(familyOf(new Map([['h', 'histogram']]), 'h_bucket')).toBe('h');
    expect(familyOf(new Map([['c_total', 'counter']]), 'c_total_count')).toBeUndefined();
  });

  it('exports the families of the contract (the scrape is read from its # TYPE lines)', () => {
    expect(families.get('hotswap_deployments_started_total')).toBe('counter');
    expect(families.get('hotswap_deployment_duration_seconds')).toBe('histogram');
    expect(families.get('hotswap_config_push_latency_seconds')).toBe('histogram');
    expect(families.get('hotswap_registered_instances')).toBe('gauge');
    expect(families.get('hotswap_health_verdicts_total')).toBe('counter');
    expect(families.get('hotswap_deployment_health_verdict')).toBe('gauge');
    expect(families.get('process_cpu_seconds_total')).toBe('counter');
  });

  it(`uses in ${DASHBOARD} only metrics the service exports`, () => {
    const expressions = dashboardExpressions();
    expect(expressions.length).toBeGreaterThan(5);
    for (const e of expressions) expect(metricUses(e.expr).length, `${e.where} selects no metric: ${e.expr}`).toBeGreaterThan(0);
    expect(missing(expressions)).toEqual([]);
  });

  it(`uses in ${ALERTS} only metrics the service exports (or its own recording rules)`, () => {
    const { expressions, recorded } = ruleExpressions();
    expect(expressions.length).toBeGreaterThanOrEqual(4);
    for (const e of expressions) expect(metricUses(e.expr).length, `${e.where} selects no metric: ${e.expr}`).toBeGreaterThan(0);
    expect(missing(expressions, recorded)).toEqual([]);
  });

  it('the dashboard shows what the issue asks for: deployments, outcomes, reload time, push latency, active deployments, instance health, health verdicts', () => {
    const used = namesIn(dashboardExpressions());
    for (const name of [
      'hotswap_deployments_started_total',
      'hotswap_deployments_completed_total',
      'hotswap_deployments_failed_total',
      'hotswap_deployments_rolledback_total',
      'hotswap_config_reload_duration_seconds_bucket',
      'hotswap_config_push_latency_seconds_bucket',
      'hotswap_active_deployments',
      'hotswap_registered_instances',
      'hotswap_health_verdicts_total',
      'hotswap_deployment_health_verdict',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  it('shows each deployment\'s latest verdict as one series per deployment: max by (deployment_id …), the replica that runs it being the only one to report it', () => {
    const uses = dashboardExpressions().flatMap((e) => metricUses(e.expr).filter((u) => u.name === 'hotswap_deployment_health_verdict').map(() => e.expr));
    expect(uses.length).toBeGreaterThan(0);
    for (const expr of uses) expect(expr).toMatch(/^max by \(deployment_id, profile\) \(hotswap_deployment_health_verdict[{)]/);
  });

  it('the rules alert on rollbacks, failures, instances not heartbeating and push latency', () => {
    const { alerts, expressions } = ruleExpressions();
    expect(alerts.length).toBeGreaterThanOrEqual(4);
    const used = namesIn(expressions);
    for (const name of [
      'hotswap_deployments_rolledback_total',
      'hotswap_deployments_failed_total',
      'hotswap_registered_instances',
      'hotswap_config_push_latency_seconds_bucket',
    ]) {
      expect(used, name).toContain(name);
    }
  });

  it('aggregates the fleet-wide gauges with max() across replicas, never sum() directly', () => {
    const all = [...dashboardExpressions(), ...ruleExpressions().expressions];
    const wrong: string[] = [];
    const seen = new Set<string>();
    for (const { where, expr } of all) {
      for (const use of metricUses(expr)) {
        if (!FLEET_WIDE.includes(use.name)) continue;
        seen.add(use.name);
        // The innermost aggregation merges the replicas' identical series: it must be max (an outer sum over services is fine).
        if (use.aggregations[0] !== 'max') wrong.push(`${where}: ${use.name} under ${use.aggregations[0] ?? 'no aggregation'} in ${expr}`);
      }
    }
    expect([...seen].sort()).toEqual([...FLEET_WIDE].sort());
    expect(wrong).toEqual([]);
  });
});
