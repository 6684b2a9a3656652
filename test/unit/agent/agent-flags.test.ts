import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AgentFlags, agentPlan } from '../../../src/agent/agent-flags.js';

const ENV = { HOTSWAP_REGISTRATION_TOKEN: 'a.b.c', HOSTNAME: 'pod-1' };
const BASE: AgentFlags = { service: 'orders', environment: 'staging', file: '/config/{profile}.json' };

describe('agentPlan', () => {
  it('applies the defaults: json files 644, no hook, heartbeats every 10 s, the state in ./.hotswap-agent, the host from HOSTNAME', () => {
    expect(agentPlan(BASE, ENV)).toEqual({
      service: 'orders',
      environment: 'STAGING',
      registrationToken: 'a.b.c',
      host: 'pod-1',
      color: undefined,
      metadata: undefined,
      stateDir: '.hotswap-agent',
      heartbeatIntervalMs: 10_000,
      file: { pathPattern: '/config/{profile}.json', format: 'json', template: undefined, mode: 0o644 },
      hook: null,
      listen: null,
      metrics: null,
    });
  });

  it('reads the token from a file, the service and environment from the environment, and every option', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'agent-flags-'));
    await writeFile(path.join(dir, 'token'), 'x.y.z\n');
    const plan = agentPlan(
      {
        registrationTokenFile: path.join(dir, 'token'), file: '/c.env', format: 'env', fileMode: '640', onChange: 'reload', hookTimeoutSeconds: '5',
        listen: '0.0.0.0:8181', metricsUrl: 'http://127.0.0.1:9102/metrics', color: 'green', metadata: ['pod=p-1', 'node=n=1'], heartbeatIntervalSeconds: '0.5',
      },
      { HOTSWAP_SERVICE: 'orders', HOTSWAP_ENVIRONMENT: 'PRODUCTION' },
    );
    expect(plan).toMatchObject({
      service: 'orders', environment: 'PRODUCTION', registrationToken: 'x.y.z', color: 'GREEN', metadata: { pod: 'p-1', node: 'n=1' }, heartbeatIntervalMs: 500,
      file: { format: 'env', mode: 0o640 }, hook: { kind: 'command', command: 'reload', timeoutMs: 5000 }, listen: { host: '0.0.0.0', port: 8181 },
      metrics: { url: 'http://127.0.0.1:9102/metrics', options: {} },
    });
    expect(agentPlan({ ...BASE, signal: 'sighup', pid: '42' }, ENV).hook).toEqual({ kind: 'signal', signal: 'SIGHUP', pid: 42, pidFile: undefined });
    expect(agentPlan({ ...BASE, signal: 'hup', pidFile: '/run/s.pid', listen: '8181' }, ENV)).toMatchObject({ hook: { kind: 'signal', signal: 'SIGHUP', pidFile: '/run/s.pid' }, listen: { host: '127.0.0.1', port: 8181 } });
  });

  it('names the service\'s own metrics when they do not follow the common conventions', () => {
    const plan = agentPlan(
      { ...BASE, metricsUrl: 'http://127.0.0.1:9102/metrics', requestsMetric: 'api_calls_total', statusLabel: 'outcome', errorStatus: '5..|429', latencyHistogram: 'api_latency_ms', latencyUnit: 'milliseconds', customMetric: ['queueDepth=jobs_queued', 'retries=job_retries_total:counter'] },
      ENV,
    );
    expect(plan.metrics!.options).toEqual({
      requestCounter: 'api_calls_total', statusLabel: 'outcome', errorStatus: '5..|429', latencyHistogram: 'api_latency_ms', latencyUnit: 'milliseconds',
      custom: [{ name: 'queueDepth', metric: 'jobs_queued', kind: 'gauge' }, { name: 'retries', metric: 'job_retries_total', kind: 'counter' }],
    });
  });

  it.each<[string, AgentFlags, NodeJS.ProcessEnv, RegExp]>([
    ['a metric flag without --metrics-url', { ...BASE, errorStatus: '5..' }, ENV, /^--error-status goes with --metrics-url$/],
    ['a bad error status', { ...BASE, metricsUrl: 'http://m/metrics', errorStatus: '5..(' }, ENV, /^--error-status: /],
    ['a bad custom metric', { ...BASE, metricsUrl: 'http://m/metrics', customMetric: ['queue depth'] }, ENV, /^--custom-metric takes NAME=METRIC/],
    ['a bad latency unit', { ...BASE, metricsUrl: 'http://m/metrics', latencyUnit: 'us' }, ENV, /^--latency-unit must be seconds or milliseconds/],
    ['no service', { ...BASE, service: undefined }, ENV, /^--service is required/],
    ['a bad environment', { ...BASE, environment: 'prod' }, ENV, /^--environment must be one of DEVELOPMENT, STAGING, PRODUCTION/],
    ['no token', BASE, {}, /^no registration token: set HOTSWAP_REGISTRATION_TOKEN/],
    ['a missing token file', { ...BASE, registrationTokenFile: '/nonexistent/token' }, {}, /^--registration-token-file \/nonexistent\/token: ENOENT/],
    ['nothing to deliver to', { ...BASE, file: undefined }, ENV, /^nothing delivers the config to the service/],
    ['a bad format', { ...BASE, format: 'toml' }, ENV, /^--format must be one of json, yaml, env, got toml$/],
    ['format and template', { ...BASE, format: 'json', template: '/t' }, ENV, /^give --format or --template, not both$/],
    ['a bad mode', { ...BASE, fileMode: '999' }, ENV, /^--file-mode must be an octal mode/],
    ['both hooks', { ...BASE, onChange: 'x', signal: 'HUP', pidFile: '/p' }, ENV, /^give --on-change or --signal, not both$/],
    ['a signal without a pid', { ...BASE, signal: 'HUP' }, ENV, /^--signal needs --pid-file FILE or --pid N/],
    ['a pid file without a signal', { ...BASE, pidFile: '/p' }, ENV, /^--pid-file and --pid go with --signal$/],
    ['pid 1', { ...BASE, signal: 'HUP', pid: '1' }, ENV, /^--pid must be a process id, got 1$/],
    ['a bad listen', { ...BASE, listen: 'localhost:99999' }, ENV, /^--listen must be HOST:PORT or PORT/],
    ['a bad metrics URL', { ...BASE, metricsUrl: 'localhost:9102' }, ENV, /^--metrics-url must be an http\(s\) URL/],
    ['a bad color', { ...BASE, color: 'red' }, ENV, /^--color must be BLUE or GREEN, got red$/],
    ['bad metadata', { ...BASE, metadata: ['pod'] }, ENV, /^--metadata takes KEY=VALUE/],
    ['a zero hook timeout', { ...BASE, onChange: 'x', hookTimeoutSeconds: '0' }, ENV, /^--hook-timeout-seconds must be a number of seconds in \(0, 3600\]/],
  ])('refuses %s with one line naming the flag', (_, flags, env, message) => {
    expect(() => agentPlan(flags, env)).toThrow(message);
  });
});
