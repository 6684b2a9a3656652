/**
 * `npm run bench:agents`: N real `hotswap agent` processes (the built CLI, `npm run build` first) on this
 * machine, each with its own file (--file, JSON) and a no-op reload hook (--on-change true), against a real
 * server process on a fresh database (with Redis), heartbeats at their defaults (10 s, agent and server).
 * Measures: start-up (all N spawned at once → registered, subscribed, version 1 in every file), then
 * per deployment the time from just before startDeployment to the last of the N files holding the new
 * version (seen through fs.watch on their directory, with a rescan every second as a safety net) and to
 * COMPLETED — DIRECT (default maxConcurrency 100) and CANARY (phases 0.1/0.5/1.0, bakeSeconds 0, inconclusive
 * health promotes: the agents send no metrics) — then each agent's CPU while idle (utime+stime from
 * /proc/<pid>/stat over the idle window, % of one core) and RSS (VmRSS).
 * Env: DATABASE_URL (admin URL), REDIS_URL, BENCH_AGENTS (200), BENCH_AGENTS_ROUNDS (3 of each strategy),
 * BENCH_AGENTS_IDLE_SECONDS (30), BENCH_AGENTS_TIMEOUT_MS (180000 per step), BENCH_AGENTS_CANARY (1; 0 leaves it out).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { type FSWatcher, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { mintToken } from '../src/auth/tokens.js';
import { Environment, Role } from '../src/domain/enums.js';
import { RedisInstanceRegistry } from '../src/registry/redis-registry.js';
import { type ServiceProcess, spawnService } from '../test/support/process.js';
import { waitFor } from '../test/support/wait.js';
import { activateVersion1, PUBLISH, REGISTER, type Registered, statusReached } from './fanout-setup.js';
import { adminSql, cleanups, cleanUpAll, cleanUpOnSignals, gql, median, now, percentile, round, rssMiB, sampleConfig, withTimeout } from './fanout-support.js';

const N = Number(process.env.BENCH_AGENTS ?? 200);
const ROUNDS = Number(process.env.BENCH_AGENTS_ROUNDS ?? 3);
const IDLE_SECONDS = Number(process.env.BENCH_AGENTS_IDLE_SECONDS ?? 30);
const TIMEOUT_MS = Number(process.env.BENCH_AGENTS_TIMEOUT_MS ?? 180_000);
const CANARY = process.env.BENCH_AGENTS_CANARY !== '0';
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/hotswap.js');
const SECRET = randomBytes(32).toString('hex');
const DATABASE = `hotswap_agents_${process.pid}`;
const SERVICE = `agents-${process.pid}`;
const PROFILE = 'agents';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
for (const [name, v] of Object.entries({ BENCH_AGENTS: N, BENCH_AGENTS_ROUNDS: ROUNDS, BENCH_AGENTS_IDLE_SECONDS: IDLE_SECONDS })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: "${process.env[name]}" is not a whole number ≥ 1`);
}

const START_DIRECT = `mutation($p: String!, $v: Int!) { startDeployment(input: { profileName: $p, version: $v, strategy: DIRECT, ackTimeoutSeconds: 60 }) { id } }`;
// The agents run without --metrics-url: their heartbeats carry no metrics, every phase is INCONCLUSIVE, and this policy
// promotes at once instead of waiting for evidence that never comes (never a default: a fleet with metrics keeps PAUSE).
const START_CANARY = `mutation($p: String!, $v: Int!) { startDeployment(input: { profileName: $p, version: $v, strategy: CANARY,
  canary: { phases: [0.1, 0.5, 1.0], bakeSeconds: 0 }, ackTimeoutSeconds: 60,
  health: { onInconclusive: PROMOTE, evidenceTimeoutSeconds: 0 } }) { id } }`;
const TARGETS = 'query($id: ID!) { deployment(id: $id) { targets { phase reloadMs } } }';

const log = (text: string) => process.stderr.write(`[agents] ${text}\n`);
/** The agents' log lines above info, by message: how many, and the first (it has the details). */
const warnings = new Map<string, { n: number; first: string }>();
const range = (xs: number[]) => `${round(Math.min(...xs))}–${round(Math.max(...xs))}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
cleanUpOnSignals(log);

interface Agent {
  child: ChildProcess;
  registeredAt: number;
  connectedAt: number;
  /** The end of its log, shown when something goes wrong. */
  tail: string;
  exited: Promise<void>;
}

/** Spawns one `hotswap agent` exactly as a user would run it, the registration token in its environment. */
function spawnAgent(i: number, url: string, token: string, dir: string): Agent {
  const stateDir = path.join(dir, 'state', String(i));
  const args = ['--url', url, 'agent', '--service', SERVICE, '--environment', 'STAGING', '--host', `agent-${i}`,
    '--file', path.join(dir, 'files', `agent-${i}.json`), '--on-change', 'true', '--state-dir', stateDir];
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HOTSWAP_REGISTRATION_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const agent: Agent = { child, registeredAt: Number.NaN, connectedAt: Number.NaN, tail: '', exited: new Promise((r) => child.once('exit', () => r())) };
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (Number.isNaN(agent.registeredAt) && line.includes('"instance identity in use"')) agent.registeredAt = now();
      if (Number.isNaN(agent.connectedAt) && line.includes('"subscribed to config updates"')) agent.connectedAt = now();
      const msg = /"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 100);
      if (!line.includes('"level":"info"')) warnings.set(msg, { n: (warnings.get(msg)?.n ?? 0) + 1, first: warnings.get(msg)?.first ?? line.slice(0, 400) });
      agent.tail = `${agent.tail}${line}\n`.slice(-2000);
    }
  });
  return agent;
}

/** SIGTERM (each agent deregisters), then SIGKILL for any still running after 30 s. */
async function stopAgents(agents: Agent[]): Promise<void> {
  const running = agents.filter((a) => a.child.exitCode === null && a.child.signalCode === null);
  for (const a of running) a.child.kill('SIGTERM');
  await withTimeout('agents exiting', 30_000, Promise.all(running.map((a) => a.exited))).catch((error: unknown) => {
    log(`${String(error)}; killing the rest`);
    for (const a of running) if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
  });
}

/**
 * The version in each agent's file (the sample config's `seed`), and when this process first saw each file
 * hold each version: inotify events on the directory (the agents rename a finished temp file over the target).
 */
class FileWatch {
  private readonly seen = new Map<number, Map<string, number>>();
  private readonly reading = new Set<string>();
  private readonly again = new Set<string>();
  private readonly watcher: FSWatcher;

  constructor(private readonly dir: string) {
    this.watcher = watch(dir, (_event, name) => name && this.read(name));
  }

  private read(name: string): void {
    if (name.startsWith('.') || !name.endsWith('.json')) return; // the agents' temp files
    if (this.reading.has(name)) return void this.again.add(name);
    this.reading.add(name);
    void readFile(path.join(this.dir, name), 'utf8')
      .then((text) => {
        const at = now();
        const version = (JSON.parse(text) as { seed: number }).seed;
        const files = this.seen.get(version) ?? new Map<string, number>();
        if (!files.has(name)) files.set(name, at);
        this.seen.set(version, files);
      })
      .catch(() => undefined) // gone or replaced meanwhile: the next event reads it
      .finally(() => {
        this.reading.delete(name);
        if (this.again.delete(name)) this.read(name);
      });
  }

  /** The times (ascending) at which each of `n` files was first seen holding `version`. */
  async all(version: number, n: number): Promise<number[]> {
    let rescanned = now();
    await waitFor(`${n} files on version ${version}`, () => {
      const count = this.seen.get(version)?.size ?? 0;
      if (count < n && now() - rescanned > 1000) {
        rescanned = now();
        for (const name of readdirSync(this.dir)) this.read(name);
      }
      return count >= n ? count : undefined;
    }, TIMEOUT_MS);
    return [...this.seen.get(version)!.values()].sort((a, b) => a - b);
  }

  close(): void {
    this.watcher.close();
  }
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function main(): Promise<void> {
  const admin = (sql: string) => adminSql(ADMIN_URL, sql);
  await admin(`drop database if exists ${DATABASE} with (force)`);
  await admin(`create database ${DATABASE}`);
  cleanups.push(() => admin(`drop database if exists ${DATABASE} with (force)`));
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${DATABASE}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hotswap-agents-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'files'));
  // The server's defaults (heartbeat 10 s) but RATE_LIMIT_PER_SECOND 0, as in the other benches: it charges per token sub, and all agents share one registration token.
  const server: ServiceProcess = spawnService({ DATABASE_URL: dbUrl.toString(), REDIS_URL, JWT_SECRET: SECRET, PORT: '0', HOST: '127.0.0.1', RATE_LIMIT_PER_SECOND: '0', LOG_LEVEL: 'info' });
  cleanups.push(() => withTimeout('server exit', 20_000, server.kill('SIGTERM')).catch(() => server.kill('SIGKILL')));
  const [, url] = await server.waitFor(/"url":"([^"]+)"/, 60_000);
  const adminToken = await mintToken(SECRET, { sub: 'agents-bench', role: Role.ADMIN, expiresInSeconds: 7200 });
  const registrar = await mintToken(SECRET, { sub: 'agents-registrar', role: Role.INSTANCE, service: SERVICE, environment: Environment.STAGING, expiresInSeconds: 7200 });
  await gql(url!, adminToken, 'mutation($n: String!, $s: String!) { createProfile(input: { name: $n, service: $s, environment: STAGING }) { id } }', { n: PROFILE, s: SERVICE });
  await gql(url!, adminToken, PUBLISH, { p: PROFILE, d: sampleConfig(1) });
  await activateVersion1(url!, adminToken, PROFILE, async (host) => {
    const r = await gql<Registered>(url!, registrar, REGISTER, { s: SERVICE, e: Environment.STAGING, h: host });
    return { id: r.registerInstance.instance.id, token: r.registerInstance.token };
  });
  const files = new FileWatch(path.join(dir, 'files'));
  cleanups.push(async () => files.close());
  const instances = async () => (await gql<{ instances: Array<{ connected: boolean }> }>(url!, adminToken,
    'query($s: String!) { instances(service: $s) { connected } }', { s: SERVICE })).instances;
  // Once the agents deregistered themselves, what is left of the service in the shared Redis registry was registered twice
  // (or by an agent killed mid-start by Ctrl-C): removed there directly, as the server may be gone already (Ctrl-C reaches it too).
  cleanups.push(async () => {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
    try {
      const registry = new RedisInstanceRegistry(redis);
      const left = await registry.list({ service: SERVICE });
      if (left.length > 0) log(`${left.length} registrations left after the agents deregistered (duplicates); removing them`);
      for (const i of left) await registry.deregister(i.id);
    } finally {
      redis.disconnect();
    }
  });

  // Start-up: all N at once; each registers, subscribes and gets version 1 (active) into its file.
  const agents: Agent[] = [];
  cleanups.push(() => stopAgents(agents));
  const killAll = () => agents.forEach((a) => a.child.kill('SIGKILL'));
  process.once('exit', killAll);
  cleanups.push(async () => process.off('exit', killAll));
  const t = now();
  for (let i = 0; i < N; i++) agents.push(spawnAgent(i, url!, registrar, dir));
  const spawnedMs = now() - t;
  const early = Promise.race(agents.map((a, i) => a.exited.then(() => Promise.reject(new Error(`agent ${i} exited (${a.child.exitCode ?? a.child.signalCode}): ${a.tail}`)))));
  early.catch(() => undefined);
  const v1 = await Promise.race([files.all(1, N), early]);
  const connectedMs = await Promise.race([waitFor(`${N} instances connected`, async () => (await instances()).filter((i) => i.connected).length >= N && now() - t, TIMEOUT_MS), early]);
  const startCpu = agents.map((a) => cpuTicks(a.child.pid!) / CLK_TCK);
  const since = (xs: number[]) => xs.map((x) => x - t).sort((a, b) => a - b);
  const registered = since(agents.map((a) => a.registeredAt));
  const subscribed = since(agents.map((a) => a.connectedAt));
  const written = since(v1);
  const startup = {
    agents: N, 'spawn loop ms': round(spawnedMs), 'registered: median ms': round(median(registered)), 'registered: last ms': round(registered.at(-1)!),
    'subscribed: last ms': round(subscribed.at(-1)!), 'v1 in file: last ms': round(written.at(-1)!), 'server sees all connected ms': round(connectedMs),
    'CPU s per agent start (median)': round(median(startCpu), 2), 'instances registered': (await instances()).length,
  };
  log(`start-up: ${JSON.stringify(startup)}`);
  const rssAfterStart = agents.map((a) => rssMiB(a.child.pid!));
  await sleep(5000);

  // Deployments: a new version each, to all N agents.
  let version = 1;
  const deploy = async (strategy: 'DIRECT' | 'CANARY') => {
    version++;
    await gql(url!, adminToken, PUBLISH, { p: PROFILE, d: sampleConfig(version) });
    const t0 = now();
    const { startDeployment } = await gql<{ startDeployment: { id: string } }>(url!, adminToken, strategy === 'DIRECT' ? START_DIRECT : START_CANARY, { p: PROFILE, v: version });
    const completed = statusReached(url!, adminToken, startDeployment.id, 'COMPLETED', TIMEOUT_MS);
    completed.catch(() => undefined);
    const written = (await Promise.race([files.all(version, N), early])).map((x) => x - t0);
    const completedMs = (await completed) - t0;
    const { deployment } = await gql<{ deployment: { targets: Array<{ phase: number; reloadMs: number | null }> } }>(url!, adminToken, TARGETS, { id: startDeployment.id });
    const reloads = deployment.targets.map((x) => x.reloadMs ?? Number.NaN).filter((x) => !Number.isNaN(x));
    const result = { strategy, version, firstMs: written[0]!, p50Ms: percentile(written, 50), lastMs: written.at(-1)!, completedMs, applyMs: median(reloads), targets: deployment.targets.length, phases: new Set(deployment.targets.map((x) => x.phase)).size };
    log(`${strategy} v${version}: files first ${round(result.firstMs)} / p50 ${round(result.p50Ms)} / last ${round(result.lastMs)} ms, COMPLETED ${round(completedMs)} ms, ` +
      `${result.targets} targets in ${result.phases} phases, median apply (write + hook, agent-side) ${round(result.applyMs, 1)} ms`);
    await sleep(2000);
    return result;
  };
  const rounds: Array<Awaited<ReturnType<typeof deploy>>> = [];
  for (let k = 0; k < ROUNDS; k++) rounds.push(await deploy('DIRECT'));
  if (CANARY) for (let k = 0; k < ROUNDS; k++) rounds.push(await deploy('CANARY'));

  // Idle: nothing deployed, heartbeats only.
  await sleep(5000);
  const pids = agents.map((a) => a.child.pid!);
  const serverPid = server.child.pid!;
  const before = pids.map(cpuTicks);
  const serverBefore = cpuTicks(serverPid);
  await sleep(IDLE_SECONDS * 1000);
  const pct = (ticks: number) => (ticks / CLK_TCK / IDLE_SECONDS) * 100;
  const cpu = pids.map((pid, i) => pct(cpuTicks(pid) - before[i]!)).sort((a, b) => a - b);
  const serverCpu = pct(cpuTicks(serverPid) - serverBefore);
  const rss = pids.map(rssMiB).sort((a, b) => a - b);
  const pssGiB = pids.reduce((sum, pid) => sum + Number(/Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1]), 0) / 2 ** 20;
  for (const [msg, { n, first }] of warnings) log(`agents logged ${n}× "${msg}"; the first: ${first}`);

  console.log(`\nHotSwap agent benchmark: ${N} \`hotswap agent\` processes (--file, --on-change true), ${os.cpus().length} cores, ` +
    `${round(os.totalmem() / 2 ** 30)} GiB; times from just before startDeployment, medians of ${ROUNDS} rounds (range over the rounds)\n`);
  console.table([startup]);
  const strategies = CANARY ? (['DIRECT', 'CANARY'] as const) : (['DIRECT'] as const);
  console.table(strategies.map((strategy) => {
    const rs = rounds.filter((r) => r.strategy === strategy);
    const of = (pick: (r: (typeof rs)[number]) => number) => rs.map(pick);
    return {
      strategy, rounds: rs.length, 'first file ms': round(median(of((r) => r.firstMs))), 'p50 file ms': round(median(of((r) => r.p50Ms))),
      'last file ms': round(median(of((r) => r.lastMs))), 'last file range': range(of((r) => r.lastMs)),
      'COMPLETED ms': round(median(of((r) => r.completedMs))), 'COMPLETED range': range(of((r) => r.completedMs)), 'apply (write+hook) ms': round(median(of((r) => r.applyMs)), 1),
    };
  }));
  console.table([{
    'idle window s': IDLE_SECONDS, 'agent CPU % of a core: median': round(median(cpu), 2), 'p90': round(percentile(cpu, 90), 2), max: round(cpu.at(-1)!, 2),
    mean: round(cpu.reduce((s, x) => s + x, 0) / N, 3), 'all agents % of a core': round(cpu.reduce((s, x) => s + x, 0), 1), 'server CPU %': round(serverCpu, 1),
    'agent RSS MiB: median': round(median(rss), 1), 'RSS max': round(rss.at(-1)!, 1), 'RSS after start-up (median)': round(median(rssAfterStart), 1),
    'all agents RSS GiB': round(rss.reduce((s, x) => s + x, 0) / 1024, 2), 'all agents PSS GiB': round(pssGiB, 2), 'server RSS MiB': round(rssMiB(serverPid)),
  }]);
}

try {
  await main();
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  await cleanUpAll(log);
}
