import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Environment, Role } from '../../src/domain/enums.js';
import type { TestServer } from './server.js';
import { api } from './api.js';
import { untilConnected } from './fleet.js';
import { pollUntil } from './wait.js';
import { freePort } from './prometheus.js';

/**
 * Real processes for the `hotswap agent` tests: the built CLI's agent, and a
 * small Python service (test/fixtures/agent/service.py, standard library only)
 * that reads its config file on SIGHUP and exposes Prometheus metrics.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/hotswap.js');
const SERVICE = path.join(ROOT, 'test/fixtures/agent/service.py');

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

function track(child: ChildProcess): Proc {
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A temp directory for one test's files, removed by `cleanup`. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hotswap-agent-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface PythonService extends Proc {
  metricsUrl: string;
  pidFile: string;
  /** The config the service runs (what it last loaded successfully) and how many times it loaded one. */
  loaded(): Promise<{ config: Record<string, unknown>; reloads: number }>;
}

/** Starts the Python service reading `configFile`, once it answers. */
export async function startPythonService(dir: string, configFile: string): Promise<PythonService> {
  const port = await freePort();
  const pidFile = path.join(dir, 'service.pid');
  const proc = track(spawn('python3', [SERVICE, configFile, pidFile, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const base = `http://127.0.0.1:${port}`;
  const loaded = async () => (await (await fetch(`${base}/loaded`)).json()) as { config: Record<string, unknown>; reloads: number };
  await pollUntil(() => loaded().catch(() => null), (x) => x !== null, { timeoutMs: 10_000, what: `the Python service to answer (${proc.output()})` });
  await pollUntil(() => readFile(pidFile, 'utf8').catch(() => ''), (pid) => pid !== '', { timeoutMs: 5000, what: 'its pid file' });
  return { ...proc, metricsUrl: `${base}/metrics`, pidFile, loaded };
}

/** Mints a registration token (INSTANCE for a service and environment, no instance id), as an operator would for a Kubernetes secret. */
export function registrationToken(server: TestServer, service: string, environment = Environment.STAGING): Promise<string> {
  return server.token(Role.INSTANCE, { sub: `registrar-${service}`, service, environment });
}

/** Runs `hotswap agent` (the built CLI) with `args` against the test server, the registration token in its environment. */
export function startAgentProcess(server: TestServer, token: string, args: readonly string[]): Proc {
  const url = new URL('/graphql', server.url).toString();
  return track(
    spawn(process.execPath, [BIN, '--url', url, 'agent', '--heartbeat-interval-seconds', '0.2', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOTSWAP_REGISTRATION_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** The instance id in the first JSON log line of `agent` whose message is `msg`. */
async function loggedInstanceId(agent: Proc, msg: string): Promise<string> {
  const line = await pollUntil(
    () => Promise.resolve(agent.output().split('\n').find((l) => l.includes(`"msg":"${msg}"`))),
    (l) => l !== undefined,
    { timeoutMs: 15_000, what: `the agent to log "${msg}" (output: ${agent.output()})` },
  );
  return (JSON.parse(line!) as { instanceId: string }).instanceId;
}

/** The instance id an agent runs as ("instance identity in use"): with a saved token, before it has reached HotSwap. */
export function agentInstanceId(agent: Proc): Promise<string> {
  return loggedInstanceId(agent, 'instance identity in use');
}

/**
 * Resolves with the agent's instance id once the server counts it as connected
 * (`ServiceInstance.connected`): a deployment started now has it as a target.
 */
export async function agentSubscribed(agent: Proc, server: TestServer): Promise<string> {
  const id = await loggedInstanceId(agent, 'subscribed to config updates');
  await untilConnected(api(server), id, server.adminToken);
  return id;
}
