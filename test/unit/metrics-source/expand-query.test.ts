import { describe, expect, it } from 'vitest';
import { MetricQueryError, type QueryScope } from '../../../src/metrics-source/metric-source.js';
import { expandQuery, unknownPlaceholders } from '../../../src/metrics-source/prometheus-source.js';

const SCOPE: QueryScope = { service: 'checkout', environment: 'prod', version: 7, group: 'canary', instanceIds: ['i-1', 'i-2'] };
const scope = (over: Partial<QueryScope>): QueryScope => ({ ...SCOPE, ...over });

/**
 * The one label matcher value in `expanded`, read as PromQL's lexer would:
 * `selector{label=~<quote>…<quote>}` must be the whole text (nothing escaped
 * the string), and the literal is unquoted the Go way (`\\`, `\uHHHH`).
 */
function matcherValue(expanded: string, quote: '"' | "'" = '"'): string {
  const literal = new RegExp(`^x\\{instance_id=~${quote}((?:[^${quote}\\\\\\n]|\\\\.)*)${quote}\\}$`).exec(expanded);
  if (!literal) throw new Error(`not one string literal: ${expanded}`);
  return (literal[1] ?? '').replace(/\\(u[0-9a-f]{4}|.)/g, (_, e: string) => (e.startsWith('u') ? String.fromCharCode(parseInt(e.slice(1), 16)) : e));
}

/** Whether Prometheus's anchored matcher `^(?:regex)$` accepts `value` (RE2 and JS agree on these escapes). */
const matches = (regex: string, value: string) => new RegExp(`^(?:${regex})$`).test(value);

describe('expandQuery', () => {
  it('fills in every placeholder, each time it appears, with or without spaces inside the braces', () => {
    const query = 'rate(x{service="{{service}}",env="{{ environment }}",v="{{version}}",g="{{group}}",i=~"{{instances}}"}[1m]) / on() {{service}}';
    expect(expandQuery(query, SCOPE)).toBe('rate(x{service="checkout",env="prod",v="7",g="canary",i=~"i-1|i-2"}[1m]) / on() checkout');
    expect(expandQuery('g="{{group}}"', scope({ group: 'control' }))).toBe('g="control"');
  });

  it('leaves a query without placeholders as it is', () => {
    const query = 'sum by (instance_id) (rate(http_errors_total{job="api"}[5m]))';
    expect(expandQuery(query, SCOPE)).toBe(query);
  });

  it('selects exactly the group instance ids: regex metacharacters are literal, the alternation anchored', () => {
    const ids = ['i.1', 'a*', 'b|c', '(d)', '[e]', '{f}', '^g$', 'h+?', 'k\\d'];
    const regex = matcherValue(expandQuery('x{instance_id=~"{{instances}}"}', scope({ instanceIds: ids })));
    for (const id of ids) expect(matches(regex, id), id).toBe(true);
    for (const other of ['ix1', 'aaa', 'b', 'c', 'd', 'e', 'g', 'hh', 'k7', 'i.10', '']) expect(matches(regex, other), other).toBe(false);
  });

  it('keeps an id that tries to close the string and add a matcher or an operator inside one literal', () => {
    const evil = ['"} or vector(1) #', '.*|', '"}[5m]) or up{x="', 'q\\"}', 'line\nbreak', "single'quote", 'c1\u0085tab\t'];
    for (const quote of ['"', "'"] as const) {
      const expanded = expandQuery(`x{instance_id=~${quote}{{instances}}${quote}}`, scope({ instanceIds: evil }));
      const regex = matcherValue(expanded, quote);
      for (const id of evil) expect(matches(regex, id), id).toBe(true);
      expect(matches(regex, 'anything')).toBe(false);
      expect(expanded).not.toContain('\n');
    }
  });

  it('escapes the exact-text placeholders too, so a service name cannot widen the selector', () => {
    const expanded = expandQuery('x{instance_id=~"{{service}}"}', scope({ service: 'a" , instance_id=~".*\\' }));
    expect(matcherValue(expanded)).toBe('a" , instance_id=~".*\\');
  });

  it('turns an empty group into a regex that matches nothing, not the empty string (which selects unlabelled series)', () => {
    const regex = matcherValue(expandQuery('x{instance_id=~"{{instances}}"}', scope({ instanceIds: [] })));
    for (const value of ['', 'i-1', 'b', ' ']) expect(matches(regex, value), JSON.stringify(value)).toBe(false);
  });

  it('refuses an unknown placeholder with a MetricQueryError naming each one', () => {
    const run = () => expandQuery('x{a="{{foo}}", b="{{ bar }}", c="{{service}}", d="{{foo}}"}', SCOPE);
    expect(run).toThrow(MetricQueryError);
    expect(run).toThrow(/\{\{foo\}\}, \{\{bar\}\}/);
  });
});

describe('unknownPlaceholders', () => {
  it('names each unknown placeholder once, in order, and none of the known ones', () => {
    expect(unknownPlaceholders('{{service}} {{Service}} {{ foo }} {{instances}} {{foo}} {{}}')).toEqual(['Service', 'foo', '']);
  });

  it('finds nothing in a query with only known placeholders or none', () => {
    expect(unknownPlaceholders('x{s="{{service}}",e="{{environment}}",v="{{version}}",g="{{group}}",i=~"{{instances}}"}')).toEqual([]);
    expect(unknownPlaceholders('sum(rate(x{a="{b}"}[1m]))')).toEqual([]);
  });
});
