import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, foreignToken, ok, publish } from '../support/api.js';
import { type CliResult, runCli } from '../support/cli.js';
import { ackFail, ackOk, type Behavior, deployAndWait, type Fleet, readDeployment, startDeployment, startFleet, waitForDeployment, HEALTHY } from '../support/fleet.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil, waitFor } from '../support/wait.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/hotswap.js');
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

/** Acks version 1 (the version in place), answers every later version as `later` says. */
const laterVersions =
  (later: Behavior): Behavior =>
  (update, instance) =>
    update.version === 1 ? { success: true, reloadMs: 1 } : later(update, instance);

interface Spawned {
  child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  done: Promise<CliResult>;
}

/** Like runCli, but the output so far can be read while the CLI runs (to interrupt it at the right moment). */
function spawnCli(args: readonly string[], env: Record<string, string>, timeoutMs = 30_000): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end();
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hotswap ${args.join(' ')} did not end within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, done };
}

/** The lines of a CLI's stderr, without the "hotswap: " prefix. */
const errorLines = (r: CliResult) =>
  r.stderr
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^hotswap: /, ''));

describe('hotswap deploy and deployment', () => {
  let server: TestServer;
  let a: Api;
  let env: Record<string, string>;
  const fleets: Fleet[] = [];
  let serial = 0;

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
    env = { HOTSWAP_URL: server.url, HOTSWAP_TOKEN: await server.token(Role.OPERATOR, { sub: 'ci-orders' }) };
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  const cli = (args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 30_000) => runCli(args, { env: { ...env, ...extraEnv }, timeoutMs });
  const countDeployments = async (name: string) =>
    ok(await a.gql<{ deployments: { totalCount: number } }>('query($p: String) { deployments(profileName: $p) { totalCount } }', { p: name })).deployments
      .totalCount;
  const activeVersion = async (name: string) =>
    ok(await a.gql<{ profile: { activeVersion: { version: number } | null } }>('query($n: String!) { profile(name: $n) { activeVersion { version } } }', { n: name }))
      .profile.activeVersion?.version ?? null;

  /**
   * A profile with versions 1 and 2 and a fleet of `count` running version 1
   * (deployed DIRECT through the API), reporting healthy metrics so a baseline exists.
   */
  async function setUp(count: number, behavior: (i: number) => Behavior = () => ackOk(1)): Promise<{ name: string; fleet: Fleet }> {
    const name = `cli-deploy-${++serial}`;
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    await publish(a, name, { v: 1 });
    await publish(a, name, { v: 2 });
    const fleet = await startFleet(a, { service: `${name}-svc`, count, behavior });
    fleets.push(fleet);
    expect((await deployAndWait(a, name, 1)).status).toBe('COMPLETED');
    fleet.reportMetrics(100, () => HEALTHY);
    await new Promise((r) => setTimeout(r, 400));
    return { name, fleet };
  }

  /** A profile with `versions` versions and `instances` instances that ack at once (none: nothing can be deployed). */
  async function bareProfile(versions = 1, instances = 0): Promise<string> {
    const name = `cli-bare-${++serial}`;
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    for (let v = 1; v <= versions; v++) await publish(a, name, { v });
    if (instances > 0) fleets.push(await startFleet(a, { service: `${name}-svc`, count: instances }));
    return name;
  }

  describe('help', () => {
    it('deploy --help shows an example and the exit codes', async () => {
      const r = await cli(['deploy', '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('$ hotswap deploy --profile orders-staging --latest --strategy canary');
      expect(r.stdout).toMatch(/Exit codes:/);
      for (const line of [/0\s+COMPLETED/, /2\s+ROLLED_BACK/, /3\s+FAILED/, /4\s+refused/, /5\s+HotSwap unreachable/, /130\s+Ctrl-C/]) expect(r.stdout).toMatch(line);
      for (const flag of ['--phases', '--bake-seconds', '--verify-seconds', '--batch-size', '--batch-percent', '--interval-seconds', '--max-concurrency']) {
        expect(r.stdout).toContain(flag);
      }
      for (const flag of ['--ack-timeout-seconds', '--max-error-rate-increase', '--max-latency-increase-pct', '--threshold', '--no-auto-rollback']) {
        expect(r.stdout).toContain(flag);
      }
    });

    it('every deployment subcommand has --help with an example', async () => {
      for (const sub of ['show', 'list', 'follow', 'pause', 'resume', 'rollback', 'cancel']) {
        const r = await cli(['deployment', sub, '--help']);
        expect(r.code, sub).toBe(0);
        expect(r.stdout, sub).toContain(`$ hotswap deployment ${sub}`);
      }
    });
  });

  describe('deploy --wait', () => {
    it('DIRECT: exits 0 with one plain line per event (no carriage return, no colour)', async () => {
      const { name, fleet } = await setUp(3);
      const r = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'direct', '--ack-timeout-seconds', '5', '--wait']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).not.toContain('\r');
      expect(r.stdout).not.toMatch(ANSI);
      const lines = r.stdout.trimEnd().split('\n');
      // A header, one line per event (timestamp, type, status, phase, progress, message), and the outcome.
      expect(lines[0]).toMatch(new RegExp(`^deployment \\S+: ${name} version 2 \\(from 1\\), DIRECT, 3 instance\\(s\\)$`));
      expect(lines.at(-1)).toMatch(/^deployment \S+ COMPLETED$/);
      const events = lines.slice(1, -1);
      for (const line of events) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z [A-Z_]+ +[A-Z_]+ +phase \d+\/1 \d+%/);
      expect(new Set(events).size, 'no event twice').toBe(events.length);
      const types = events.map((l) => l.split(/\s+/)[1]);
      expect(types.slice(0, 2)).toEqual(['STARTED', 'PHASE_STARTED']);
      expect(types.at(-1)).toBe('COMPLETED');
      expect(fleet.instances.map((i) => i.appliedVersion())).toEqual([2, 2, 2]);
      expect(await activeVersion(name)).toBe(2);
    }, 40_000);

    it('canary with healthy instances: promotes phase by phase and exits 0', async () => {
      const { name, fleet } = await setUp(4);
      const r = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '1', '--ack-timeout-seconds', '5', '--wait']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/HEALTH_CHECKED\s+IN_PROGRESS\s+phase 1\/2/);
      expect(r.stdout).toMatch(/PHASE_STARTED\s+IN_PROGRESS\s+phase 2\/2/);
      expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/COMPLETED$/);
      expect(fleet.instances.map((i) => i.appliedVersion())).toEqual([2, 2, 2, 2]);
      expect(await activeVersion(name)).toBe(2);
    }, 40_000);

    it('a canary whose instances fail the ack is ROLLED_BACK: exit 2 with the reason', async () => {
      const { name, fleet } = await setUp(2, () => laterVersions(ackFail('config rejected: pool size')));
      const r = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '1', '--ack-timeout-seconds', '5', '--wait']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stdout).toContain('ROLLBACK_STARTED');
      expect(r.stdout).toMatch(/^deployment \S+ ROLLED_BACK: .+/m);
      expect(fleet.instances.map((i) => i.appliedVersion())).toEqual([1, 1]);
      expect(await activeVersion(name)).toBe(1);
    }, 40_000);

    it('DIRECT with a failing instance is FAILED: exit 3 with the failure reason', async () => {
      const { name, fleet } = await setUp(3, (i) => (i === 0 ? laterVersions(ackFail('cannot parse config')) : ackOk(1)));
      const r = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'direct', '--ack-timeout-seconds', '5', '--wait']);
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stdout).toMatch(/^\S+Z FAILED\s+FAILED/m);
      expect(r.stdout).toMatch(/^deployment \S+ FAILED: .*cannot parse config/m);
      expect(fleet.instances[0]!.appliedVersion()).toBe(1);
    }, 40_000);

    it('rolling with --batch-size and --interval-seconds: exits 0 after one phase per batch', async () => {
      const { name } = await setUp(3);
      const r = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'rolling', '--batch-size', '1', '--interval-seconds', '0', '--wait', '--json']);
      expect(r.code, r.stderr).toBe(0);
      // --wait --json: the events go to stderr, the final deployment (raw GraphQL data) to stdout.
      expect(r.stderr).toContain('PHASE_STARTED');
      const { deployment } = JSON.parse(r.stdout) as { deployment: { strategy: string; status: string; phaseCount: number; targets: Array<{ state: string }> } };
      expect(deployment).toMatchObject({ strategy: 'ROLLING', status: 'COMPLETED', phaseCount: 3 });
      expect(deployment.targets.map((t) => t.state)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    }, 40_000);

    it('Ctrl-C stops following (exit 130, says how to follow again); the deployment goes on and completes', async () => {
      const { name, fleet } = await setUp(2);
      const run = spawnCli(['deploy', '--profile', name, '--version', '2', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '2', '--wait'], env);
      await waitFor('the first event line', () => /CURRENT_STATE|STARTED|PHASE_STARTED/.test(run.stdout()), 20_000);
      run.child.kill('SIGINT');
      const r = await run.done;
      expect(r.code, r.stdout + r.stderr).toBe(130);
      const id = /^deployment (\S+):/m.exec(r.stdout)?.[1];
      expect(id).toBeDefined();
      expect(r.stdout).toContain(`hotswap deployment follow ${id}`);
      expect(r.stdout).not.toMatch(/COMPLETED$/m);
      const d = await waitForDeployment(a, id!, 20_000);
      expect(d.status).toBe('COMPLETED');
      expect(fleet.instances.map((i) => i.appliedVersion())).toEqual([2, 2]);
    }, 40_000);
  });

  describe('a canary without evidence', () => {
    it('pauses as inconclusive: the follow lines and deployment show say so, never healthy', async () => {
      const name = await bareProfile(1, 2);
      const r = await cli(['deploy', '--profile', name, '--version', '1', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '0', '--evidence-timeout-seconds', '1', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const { id } = (JSON.parse(r.stdout) as { startDeployment: { id: string } }).startDeployment;
      await pollUntil(async () => (await readDeployment(a, id))?.status, (s) => s === 'PAUSED', { timeoutMs: 15_000, what: 'the canary to pause' });

      const shown = await cli(['deployment', 'show', id]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/^health: +inconclusive$/m);
      expect(shown.stdout).toMatch(/^ {2}- not enough evidence: 0 of 1 updated instance sent 2 heartbeats with metrics since applying \(1 needed\)$/m);
      expect(shown.stdout).not.toMatch(/healthy/);

      // A paused deployment goes on: following shows its events until Ctrl-C.
      const follow = spawnCli(['deployment', 'follow', id], env);
      await waitFor('the PAUSED line', () => /PAUSED\s+PAUSED/.test(follow.stdout()), 15_000);
      follow.child.kill('SIGINT');
      const followed = await follow.done;
      expect(followed.code).toBe(130);
      expect(followed.stdout).toMatch(/HEALTH_INCONCLUSIVE\s+IN_PROGRESS\s+phase 1\/2 .*inconclusive: not enough evidence/);
      expect(followed.stdout).toMatch(/PAUSED\s+PAUSED\s+phase 1\/2 .*health inconclusive/);
    }, 40_000);
  });

  describe('deploy without --wait', () => {
    it('prints the deployment id and status; --json prints the raw data', async () => {
      const name = await bareProfile(2, 1);
      const r = await cli(['deploy', '--profile', name, '--version', '1', '--strategy', 'direct']);
      expect(r.code, r.stderr).toBe(0);
      const id = /^deployment (\S+) (PENDING|IN_PROGRESS|COMPLETED):/.exec(r.stdout)?.[1];
      expect(id, r.stdout).toBeDefined();
      expect(r.stdout).toContain(`hotswap deployment follow ${id}`);
      expect((await readDeployment(a, id!))?.profileName).toBe(name);
      await waitForDeployment(a, id!);

      const j = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'rolling', '--batch-percent', '50', '--json']);
      expect(j.code, j.stderr).toBe(0);
      const { startDeployment: started } = JSON.parse(j.stdout) as { startDeployment: { id: string; version: number; strategy: string; status: string; startedBy: string } };
      expect(started).toMatchObject({ version: 2, strategy: 'ROLLING', startedBy: 'ci-orders' });
      expect(started.id).not.toBe(id);
    });

    it('--latest deploys the latest published version', async () => {
      const name = await bareProfile(3, 1);
      const r = await cli(['deploy', '--profile', name, '--latest', '--strategy', 'direct', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const { startDeployment: started } = JSON.parse(r.stdout) as { startDeployment: { id: string; version: number } };
      expect(started.version).toBe(3);
      expect((await readDeployment(a, started.id))?.version).toBe(3);
    });

    it('passes the strategy and health flags to startDeployment', async () => {
      const name = await bareProfile(1, 2);
      const r = await cli([
        'deploy', '--profile', name, '--version', '1', '--strategy', 'canary', '--phases', '5,25,100', '--bake-seconds', '0', '--ack-timeout-seconds', '7',
        '--max-error-rate-increase', '0.02', '--max-latency-increase-pct', '20', '--threshold', 'queue_depth=1000', '--threshold', 'gc_ms=50',
        '--no-auto-rollback', '--min-heartbeats', '1', '--evidence-timeout-seconds', '1', '--on-inconclusive', 'promote', '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const { id } = (JSON.parse(r.stdout) as { startDeployment: { id: string } }).startDeployment;
      const [row] = await server.db.query<{ options: unknown; health_policy: unknown; ack_timeout_seconds: number }>(
        'select options, health_policy, ack_timeout_seconds from deployment where id = $1',
        [id],
      );
      expect(row?.options).toMatchObject({ strategy: 'CANARY', canary: { phases: [0.05, 0.25, 1], bakeSeconds: 0 } });
      expect(row?.health_policy).toEqual({
        maxErrorRateIncrease: 0.02,
        maxLatencyIncreasePct: 20,
        customThresholds: { queue_depth: 1000, gc_ms: 50 },
        autoRollback: false,
        minHeartbeats: 1,
        evidenceTimeoutSeconds: 1,
        onInconclusive: 'PROMOTE',
      });
      expect(row?.ack_timeout_seconds).toBe(7);
      expect((await waitForDeployment(a, id, 20_000)).status).toBe('COMPLETED');

      // These instances report no metrics: promote at once rather than pause for lack of evidence.
      const rolling = await cli([
        'deploy', '--profile', name, '--version', '1', '--strategy', 'ROLLING', '--batch-percent', '50', '--interval-seconds', '0',
        '--evidence-timeout-seconds', '0', '--on-inconclusive', 'PROMOTE', '--json',
      ]);
      expect(rolling.code, rolling.stderr).toBe(0);
      const rollingId = (JSON.parse(rolling.stdout) as { startDeployment: { id: string } }).startDeployment.id;
      const [rollingRow] = await server.db.query<{ options: unknown }>('select options from deployment where id = $1', [rollingId]);
      expect(rollingRow?.options).toMatchObject({ strategy: 'ROLLING', rolling: { batchSize: null, batchPercent: 50, intervalSeconds: 0 } });
      await waitForDeployment(a, rollingId, 20_000);
    }, 40_000);
  });

  describe('refusals', () => {
    it.each([
      [['--strategy', 'canary', '--batch-size', '2'], /--batch-size does not apply to --strategy canary/],
      [['--strategy', 'canary', '--phases', '50,30'], /--phases must be strictly ascending/],
      [['--strategy', 'canary', '--phases', '10,50'], /--phases must end at 100/],
      [['--strategy', 'canary', '--phases', '0.1,0.5,1'], /--phases takes percentages, not shares: write 10,50,100/],
      [['--strategy', 'rolling', '--bake-seconds', '5'], /--bake-seconds does not apply to --strategy rolling/],
      [['--strategy', 'rolling', '--batch-size', '2', '--batch-percent', '10'], /not both/],
      [['--strategy', 'direct', '--max-error-rate-increase', '0.1'], /--max-error-rate-increase does not apply to --strategy direct/],
      [['--strategy', 'direct', '--no-auto-rollback'], /--no-auto-rollback does not apply to --strategy direct/],
      [['--strategy', 'blue-green', '--verify-seconds', 'soon'], /--verify-seconds must be a whole number/],
      [['--strategy', 'canary', '--threshold', 'queue_depth'], /--threshold takes metric=max/],
      [['--strategy', 'big-bang'], /--strategy must be canary, blue-green, rolling or direct/],
    ])('deploy %j: exit 4 with one clear line, nothing started', async (flags, message) => {
      const name = await bareProfile(1);
      const r = await cli(['deploy', '--profile', name, '--version', '1', ...flags]);
      expect(r.code).toBe(4);
      expect(errorLines(r)).toHaveLength(1);
      expect(errorLines(r)[0]).toMatch(message);
      expect(r.stdout).toBe('');
      expect(await countDeployments(name)).toBe(0);
    });

    it('--version and --latest together, or neither: exit 4', async () => {
      const name = await bareProfile(1);
      for (const flags of [['--version', '1', '--latest'], []]) {
        const r = await cli(['deploy', '--profile', name, '--strategy', 'direct', ...flags]);
        expect(r.code).toBe(4);
        expect(errorLines(r)).toEqual(['give --version N or --latest (one of them)']);
      }
    });

    it('a version that does not exist: the server refuses, exit 4', async () => {
      const name = await bareProfile(1);
      const r = await cli(['deploy', '--profile', name, '--version', '9', '--strategy', 'direct']);
      expect(r.code).toBe(4);
      expect(errorLines(r)[0]).toMatch(/^[A-Z_]+: /);
      expect(await countDeployments(name)).toBe(0);
    });

    it('an unknown profile: exit 4, with --version and with --latest', async () => {
      for (const flags of [['--version', '1'], ['--latest']]) {
        const r = await cli(['deploy', '--profile', 'no-such-profile', '--strategy', 'direct', ...flags]);
        expect(r.code, r.stderr).toBe(4);
        expect(errorLines(r)).toHaveLength(1);
        expect(errorLines(r)[0]).toMatch(/NOT_FOUND.*no-such-profile|no-such-profile.*not found/i);
      }
    });

    it('--latest on a profile without versions: exit 4', async () => {
      const name = await bareProfile(0);
      const r = await cli(['deploy', '--profile', name, '--latest', '--strategy', 'direct']);
      expect(r.code).toBe(4);
      expect(errorLines(r)[0]).toContain('has no published version');
    });

    it('a bad token: exit 4 (UNAUTHENTICATED), no token: exit 4 with a hint', async () => {
      const name = await bareProfile(1);
      const bad = await cli(['deploy', '--profile', name, '--version', '1', '--strategy', 'direct'], { HOTSWAP_TOKEN: await foreignToken(Role.ADMIN) });
      expect(bad.code).toBe(4);
      expect(errorLines(bad)[0]).toMatch(/^UNAUTHENTICATED: /);
      const none = await runCli(['deploy', '--profile', name, '--version', '1', '--strategy', 'direct'], { env: { HOTSWAP_URL: server.url } });
      expect(none.code).toBe(4);
      expect(errorLines(none)[0]).toContain('HOTSWAP_TOKEN');
      expect(await countDeployments(name)).toBe(0);
    });

    it('HotSwap unreachable: exit 5', async () => {
      const r = await cli(['deploy', '--profile', 'orders', '--version', '1', '--strategy', 'direct', '--wait'], { HOTSWAP_URL: 'http://127.0.0.1:1/graphql' });
      expect(r.code).toBe(5);
      expect(errorLines(r)).toHaveLength(1);
      expect(errorLines(r)[0]).toContain('cannot reach HotSwap at http://127.0.0.1:1/graphql');
      const follow = await cli(['deployment', 'follow', '1'], { HOTSWAP_URL: 'http://127.0.0.1:1/graphql' });
      expect(follow.code).toBe(5);
    });
  });

  describe('deployment show, list and follow', () => {
    it('show: a summary for people, the raw data with --json; an unknown id: exit 4', async () => {
      const { name } = await setUp(2);
      const d = await deployAndWait(a, name, 2);
      const r = await cli(['deployment', 'show', d.id]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`deployment ${d.id}: ${name} version 2 (from 1), DIRECT`);
      expect(r.stdout).toMatch(/status:\s+COMPLETED, phase 1\/1, progress 100%/);
      expect(r.stdout).toMatch(/targets:\s+2 \(2 APPLIED\)/);
      expect(r.stdout).toMatch(/events \(last \d+\):/);
      expect(r.stdout).toMatch(/COMPLETED\s+COMPLETED/);

      const j = await cli(['deployment', 'show', d.id, '--json']);
      expect(j.code).toBe(0);
      const { deployment } = JSON.parse(j.stdout) as { deployment: { id: string; status: string; targets: unknown[]; events: Array<{ type: string }> } };
      expect(deployment).toMatchObject({ id: d.id, status: 'COMPLETED' });
      expect(deployment.targets).toHaveLength(2);
      expect(deployment.events.map((e) => e.type)).toContain('COMPLETED');

      const missing = await cli(['deployment', 'show', '999999']);
      expect(missing.code).toBe(4);
      expect(errorLines(missing)).toHaveLength(1);
    }, 40_000);

    it('list: newest first, filtered by profile and status; --json parses', async () => {
      const name = await bareProfile(2, 1);
      const first = await startDeployment(a, { profileName: name, version: 1, strategy: 'DIRECT' });
      await waitForDeployment(a, first.id);
      const second = await startDeployment(a, { profileName: name, version: 2, strategy: 'DIRECT' });
      await waitForDeployment(a, second.id);

      const j = await cli(['deployment', 'list', '--profile', name, '--json']);
      expect(j.code, j.stderr).toBe(0);
      const data = JSON.parse(j.stdout) as { deployments: { totalCount: number; edges: Array<{ node: { id: string; profileName: string; status: string } }> } };
      expect(data.deployments.totalCount).toBe(2);
      expect(data.deployments.edges.map((e) => e.node.id)).toEqual([second.id, first.id]);

      const filtered = JSON.parse((await cli(['deployment', 'list', '--profile', name, '--status', 'completed', '--first', '1', '--json'])).stdout) as typeof data;
      expect(filtered.deployments.edges.map((e) => e.node.id)).toEqual([second.id]);
      const none = JSON.parse((await cli(['deployment', 'list', '--profile', name, '--status', 'ROLLED_BACK', '--json'])).stdout) as typeof data;
      expect(none.deployments.totalCount).toBe(0);

      const table = await cli(['deployment', 'list', '--profile', name]);
      expect(table.code).toBe(0);
      const rows = table.stdout.trimEnd().split('\n');
      expect(rows[0]).toMatch(/^ID\s+PROFILE\s+VERSION\s+STRATEGY\s+STATUS/);
      expect(rows[1]).toMatch(new RegExp(`^${second.id}\\s+${name}\\s+1→2\\s+DIRECT\\s+COMPLETED`));

      const bad = await cli(['deployment', 'list', '--status', 'DONE']);
      expect(bad.code).toBe(4);
      expect(errorLines(bad)[0]).toContain('--status must be one of');
    });

    it('follow of a finished deployment exits at once with its status: 0 COMPLETED, 2 ROLLED_BACK, 3 FAILED', async () => {
      const { name } = await setUp(2, (i) => (i === 0 ? laterVersions(ackFail('bad config')) : ackOk(1)));
      const failed = await deployAndWait(a, name, 2);
      expect(failed.status).toBe('FAILED');
      const rolledBack = await startDeployment(a, { profileName: name, version: 2, strategy: 'CANARY', canary: { phases: [0.5, 1], bakeSeconds: 0 }, ackTimeoutSeconds: 5 });
      expect((await waitForDeployment(a, rolledBack.id, 20_000)).status).toBe('ROLLED_BACK');
      const bare = await bareProfile(1, 1);
      const completed = await startDeployment(a, { profileName: bare, version: 1, strategy: 'DIRECT' });
      expect((await waitForDeployment(a, completed.id)).status).toBe('COMPLETED');

      for (const [id, code, status] of [[completed.id, 0, 'COMPLETED'], [rolledBack.id, 2, 'ROLLED_BACK'], [failed.id, 3, 'FAILED']] as const) {
        const r = await cli(['deployment', 'follow', id], {}, 15_000);
        expect(r.code, `${status}: ${r.stdout}${r.stderr}`).toBe(code);
        expect(r.stdout).toMatch(new RegExp(`^\\S+Z ${status}\\s+${status}`, 'm'));
        expect(r.stdout).toMatch(new RegExp(`^deployment ${id} ${status}`, 'm'));
      }
      const missing = await cli(['deployment', 'follow', '999999']);
      expect(missing.code).toBe(4);
    }, 60_000);
  });

  describe('deployment pause, resume and rollback', () => {
    it('pause, resume, then rollback --wait (exit 2); each refused where it does not apply (CONFLICT: exit 4)', async () => {
      const { name, fleet } = await setUp(2);
      const d = await startDeployment(a, { profileName: name, version: 2, strategy: 'CANARY', canary: { phases: [0.5, 1], bakeSeconds: 30 }, ackTimeoutSeconds: 5 });

      // It has pushed: cancel is refused and points to a rollback.
      const cancel = await cli(['deployment', 'cancel', d.id, '--reason', 'wrong version']);
      expect(cancel.code).toBe(4);
      expect(errorLines(cancel)[0]).toMatch(/^CONFLICT: .*roll it back instead/);
      expect((await cli(['deployment', 'cancel', d.id, '--reason', ' '])).code).toBe(4);

      const resumeEarly = await cli(['deployment', 'resume', d.id]);
      expect(resumeEarly.code).toBe(4);
      expect(errorLines(resumeEarly)[0]).toMatch(/^CONFLICT: /);

      const paused = await cli(['deployment', 'pause', d.id]);
      expect(paused.code, paused.stderr).toBe(0);
      expect(paused.stdout).toMatch(new RegExp(`^deployment ${d.id} (IN_PROGRESS|PAUSED|PENDING):`));
      expect(paused.stdout).toContain(`hotswap deployment resume ${d.id}`);
      await pollUntil(() => readDeployment(a, d.id), (x) => x?.status === 'PAUSED', { timeoutMs: 15_000, what: 'PAUSED' });

      const pauseAgain = await cli(['deployment', 'pause', d.id]);
      expect(pauseAgain.code).toBe(4);
      expect(errorLines(pauseAgain)[0]).toMatch(/^CONFLICT: /);

      const resumed = await cli(['deployment', 'resume', d.id, '--json']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect((JSON.parse(resumed.stdout) as { resumeDeployment: { id: string; status: string } }).resumeDeployment).toMatchObject({ id: d.id, status: 'IN_PROGRESS' });

      const noReason = await cli(['deployment', 'rollback', d.id, '--reason', ' ']);
      expect(noReason.code).toBe(4);

      const rolledBack = await cli(['deployment', 'rollback', d.id, '--reason', 'checkout errors', '--wait'], {}, 30_000);
      expect(rolledBack.code, rolledBack.stdout + rolledBack.stderr).toBe(2);
      expect(rolledBack.stdout).toMatch(/^deployment \S+ ROLLED_BACK: checkout errors/m);
      expect((await readDeployment(a, d.id))?.rollbackReason).toBe('checkout errors');
      expect(fleet.instances.map((i) => i.appliedVersion())).toEqual([1, 1]);

      const again = await cli(['deployment', 'rollback', d.id, '--reason', 'twice']);
      expect(again.code).toBe(4);
      expect(errorLines(again)[0]).toMatch(/^CONFLICT: /);
    }, 60_000);

    it('rollback of a COMPLETED deployment without --wait answers at once; pause of a finished one is refused', async () => {
      const { name } = await setUp(2);
      const d = await deployAndWait(a, name, 2);
      const pause = await cli(['deployment', 'pause', d.id]);
      expect(pause.code).toBe(4);
      expect(errorLines(pause)[0]).toMatch(/^CONFLICT: /);

      const r = await cli(['deployment', 'rollback', d.id, '--reason', 'wrong pool size']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^deployment ${d.id} (ROLLING_BACK|ROLLED_BACK):`));
      expect((await waitForDeployment(a, d.id, 20_000)).status).toBe('ROLLED_BACK');
      expect(await activeVersion(name)).toBe(1);
    }, 40_000);

    it('a DEVELOPER may not roll back: FORBIDDEN, exit 4', async () => {
      const name = await bareProfile(2, 1);
      await deployAndWait(a, name, 1);
      const d = await deployAndWait(a, name, 2);
      const r = await cli(['deployment', 'rollback', d.id, '--reason', 'try'], { HOTSWAP_TOKEN: await server.token(Role.DEVELOPER, { sub: 'dev' }) });
      expect(r.code).toBe(4);
      expect(errorLines(r)[0]).toMatch(/^FORBIDDEN: /);
    });
  });
});
