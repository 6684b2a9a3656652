/**
 * The flags of `hotswap agent` (names in API.md) turned into what the agent
 * runs with, each one checked, so a mistake stops the agent at start with one
 * line naming the flag instead of surfacing at the first deployment.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ClientEnvironment } from '../client/types.js';
import { type CustomMetric, errorStatusPattern, type ServiceMetricsOptions } from '../domain/service-metrics.js';
import { CONFIG_FORMATS, type ConfigFormat } from './formats.js';

export interface AgentFlags {
  service?: string;
  environment?: string;
  registrationTokenFile?: string;
  file?: string;
  format?: string;
  template?: string;
  fileMode?: string;
  onChange?: string;
  signal?: string;
  pidFile?: string;
  pid?: string;
  hookTimeoutSeconds?: string;
  listen?: string;
  metricsUrl?: string;
  stateDir?: string;
  host?: string;
  color?: string;
  metadata?: string[];
  heartbeatIntervalSeconds?: string;
  requestsMetric?: string;
  statusLabel?: string;
  errorStatus?: string;
  latencyHistogram?: string;
  latencyUnit?: string;
  customMetric?: string[];
}

/** What the flags ask for, validated; the agent's parts are built from it. */
export interface AgentPlan {
  service: string;
  environment: ClientEnvironment;
  registrationToken: string;
  host: string;
  color?: 'BLUE' | 'GREEN';
  metadata?: Record<string, string>;
  stateDir: string;
  heartbeatIntervalMs: number;
  file: { pathPattern: string; format: ConfigFormat; template?: string; mode: number } | null;
  hook: { kind: 'command'; command: string; timeoutMs: number } | { kind: 'signal'; signal: NodeJS.Signals; pidFile?: string; pid?: number } | null;
  listen: { host: string; port: number } | null;
  metrics: { url: string; options: ServiceMetricsOptions } | null;
}

const ENVIRONMENTS: readonly ClientEnvironment[] = ['DEVELOPMENT', 'STAGING', 'PRODUCTION'];
const FORMATS = CONFIG_FORMATS.filter((f) => f !== 'template');

/** One line naming the flag; the CLI prints it and exits 4. */
export class AgentFlagError extends Error {}

function wholeSeconds(flag: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw new AgentFlagError(`${flag} must be a number of seconds in (0, ${max}], got ${raw}`);
  return n;
}

function listenOf(raw: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d{1,5})$/.exec(raw);
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new AgentFlagError(`--listen must be HOST:PORT or PORT (e.g. 127.0.0.1:8181), got ${raw}`);
  return { host: m[1]?.replace(/^\[(.*)\]$/, '$1') ?? '127.0.0.1', port };
}

function registrationToken(flags: AgentFlags, env: NodeJS.ProcessEnv): string {
  if (flags.registrationTokenFile !== undefined) {
    try {
      const token = readFileSync(flags.registrationTokenFile, 'utf8').trim();
      if (token !== '') return token;
    } catch (error) {
      throw new AgentFlagError(`--registration-token-file ${flags.registrationTokenFile}: ${(error as Error).message}`);
    }
    throw new AgentFlagError(`--registration-token-file ${flags.registrationTokenFile} is empty`);
  }
  const token = env.HOTSWAP_REGISTRATION_TOKEN?.trim();
  if (!token) throw new AgentFlagError('no registration token: set HOTSWAP_REGISTRATION_TOKEN or pass --registration-token-file (mint one with `hotswap token --role INSTANCE --service S --environment E`)');
  return token;
}

function hookOf(flags: AgentFlags): AgentPlan['hook'] {
  if (flags.onChange !== undefined && flags.signal !== undefined) throw new AgentFlagError('give --on-change or --signal, not both');
  const timeoutMs = wholeSeconds('--hook-timeout-seconds', flags.hookTimeoutSeconds, 30, 3600) * 1000;
  if (flags.onChange !== undefined) {
    if (flags.onChange.trim() === '') throw new AgentFlagError('--on-change needs a command');
    return { kind: 'command', command: flags.onChange, timeoutMs };
  }
  if (flags.signal === undefined) {
    if (flags.pidFile !== undefined || flags.pid !== undefined) throw new AgentFlagError('--pid-file and --pid go with --signal');
    return null;
  }
  const name = flags.signal.toUpperCase();
  const signal = (name.startsWith('SIG') ? name : `SIG${name}`) as NodeJS.Signals;
  if (!/^SIG[A-Z0-9]+$/.test(signal)) throw new AgentFlagError(`--signal must be a signal name such as HUP or SIGHUP, got ${flags.signal}`);
  if ((flags.pidFile === undefined) === (flags.pid === undefined)) throw new AgentFlagError('--signal needs --pid-file FILE or --pid N (one of them)');
  const pid = flags.pid === undefined ? undefined : Number(flags.pid);
  if (pid !== undefined && !(Number.isInteger(pid) && pid > 1)) throw new AgentFlagError(`--pid must be a process id, got ${flags.pid}`);
  return { kind: 'signal', signal, pidFile: flags.pidFile, pid };
}

function fileOf(flags: AgentFlags): AgentPlan['file'] {
  if (flags.file === undefined) {
    if (flags.format !== undefined || flags.template !== undefined) throw new AgentFlagError('--format and --template go with --file');
    return null;
  }
  if (flags.template !== undefined && flags.format !== undefined) throw new AgentFlagError('give --format or --template, not both');
  const format = flags.template !== undefined ? 'template' : (flags.format ?? 'json');
  if (format !== 'template' && !(FORMATS as readonly string[]).includes(format)) throw new AgentFlagError(`--format must be one of ${FORMATS.join(', ')}, got ${format}`);
  const mode = flags.fileMode === undefined ? 0o644 : Number.parseInt(flags.fileMode, 8);
  if (!(Number.isInteger(mode) && mode >= 0 && mode <= 0o777) || !/^[0-7]{3,4}$/.test(flags.fileMode ?? '644')) {
    throw new AgentFlagError(`--file-mode must be an octal mode such as 640, got ${flags.fileMode}`);
  }
  let template: string | undefined;
  if (flags.template !== undefined) {
    try {
      template = readFileSync(flags.template, 'utf8');
    } catch (error) {
      throw new AgentFlagError(`--template ${flags.template}: ${(error as Error).message}`);
    }
  }
  return { pathPattern: flags.file, format: format as ConfigFormat, template, mode };
}

const METRIC_FLAGS = ['requestsMetric', 'statusLabel', 'errorStatus', 'latencyHistogram', 'latencyUnit', 'customMetric'] as const;

/** `NAME=METRIC` or `NAME=METRIC:counter`: a custom heartbeat metric from a gauge (its value) or a counter (its rate per second). */
function customMetricOf(raw: string): CustomMetric {
  // A metric name may hold colons (recording rules): the kind is a known suffix, not whatever follows one.
  const m = /^([A-Za-z_][\w.:-]*)=([A-Za-z_:][\w:]*?)(?::(gauge|counter))?$/.exec(raw);
  if (!m) throw new AgentFlagError(`--custom-metric takes NAME=METRIC or NAME=METRIC:counter (e.g. queueDepth=jobs_queued), got ${raw}`);
  return { name: m[1]!, metric: m[2]!, kind: (m[3] ?? 'gauge') as CustomMetric['kind'] };
}

function metricsOf(flags: AgentFlags): AgentPlan['metrics'] {
  if (flags.metricsUrl === undefined) {
    const stray = METRIC_FLAGS.find((f) => flags[f] !== undefined);
    if (stray) throw new AgentFlagError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} goes with --metrics-url`);
    return null;
  }
  if (!/^https?:\/\//.test(flags.metricsUrl)) throw new AgentFlagError(`--metrics-url must be an http(s) URL, got ${flags.metricsUrl}`);
  if (flags.latencyUnit !== undefined && flags.latencyUnit !== 'seconds' && flags.latencyUnit !== 'milliseconds') {
    throw new AgentFlagError(`--latency-unit must be seconds or milliseconds, got ${flags.latencyUnit}`);
  }
  try {
    if (flags.errorStatus !== undefined) errorStatusPattern(flags.errorStatus);
  } catch (error) {
    throw new AgentFlagError(`--error-status: ${(error as Error).message}`);
  }
  const options: ServiceMetricsOptions = {
    ...(flags.requestsMetric !== undefined && { requestCounter: flags.requestsMetric }),
    ...(flags.statusLabel !== undefined && { statusLabel: flags.statusLabel }),
    ...(flags.errorStatus !== undefined && { errorStatus: flags.errorStatus }),
    ...(flags.latencyHistogram !== undefined && { latencyHistogram: flags.latencyHistogram }),
    ...(flags.latencyUnit !== undefined && { latencyUnit: flags.latencyUnit as 'seconds' | 'milliseconds' }),
    ...(flags.customMetric?.length && { custom: flags.customMetric.map(customMetricOf) }),
  };
  return { url: flags.metricsUrl, options };
}

/** @throws AgentFlagError with one line naming the flag */
export function agentPlan(flags: AgentFlags, env: NodeJS.ProcessEnv): AgentPlan {
  const service = flags.service ?? env.HOTSWAP_SERVICE;
  if (!service) throw new AgentFlagError('--service is required (or HOTSWAP_SERVICE)');
  const environment = (flags.environment ?? env.HOTSWAP_ENVIRONMENT)?.toUpperCase();
  if (!environment || !(ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw new AgentFlagError(`--environment must be one of ${ENVIRONMENTS.join(', ')} (or HOTSWAP_ENVIRONMENT), got ${environment ?? 'nothing'}`);
  }
  const color = flags.color?.toUpperCase();
  if (color !== undefined && color !== 'BLUE' && color !== 'GREEN') throw new AgentFlagError(`--color must be BLUE or GREEN, got ${flags.color}`);
  const metadata = flags.metadata?.length ? Object.fromEntries(flags.metadata.map((kv) => {
    const at = kv.indexOf('=');
    if (at <= 0) throw new AgentFlagError(`--metadata takes KEY=VALUE (e.g. pod=$POD_NAME), got ${kv}`);
    return [kv.slice(0, at), kv.slice(at + 1)];
  })) : undefined;
  const plan: AgentPlan = {
    service,
    environment: environment as ClientEnvironment,
    registrationToken: registrationToken(flags, env),
    host: flags.host ?? env.HOSTNAME ?? hostname(),
    color: color as AgentPlan['color'],
    metadata,
    stateDir: flags.stateDir ?? '.hotswap-agent',
    heartbeatIntervalMs: wholeSeconds('--heartbeat-interval-seconds', flags.heartbeatIntervalSeconds, 10, 3600) * 1000,
    file: fileOf(flags),
    hook: hookOf(flags),
    listen: flags.listen === undefined ? null : listenOf(flags.listen),
    metrics: metricsOf(flags),
  };
  if (plan.file === null && plan.listen === null) throw new AgentFlagError('nothing delivers the config to the service: give --file PATH, --listen HOST:PORT, or both');
  return plan;
}
