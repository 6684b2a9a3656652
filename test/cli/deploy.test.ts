import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { api, type Api } from '../support/api.js';
import { errorLines, runCli, spawnCli } from '../support/cli.js';
import { ackFail, ackOk, type Behavior, type Fleet, HEALTHY, readDeployment, type SimInstance, startFleet, waitForDeployment } from '../support/fleet.js';
import { activeVersion, countDeployments, DEGRADED, fleetOnVersion1, laterVersions, profileWithVersions } from '../support/progressive.js';
import { freePort } from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil, waitFor } from '../support/wait.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

describe('hotswap deploy and deployment', () => {
  let server: TestServer;
  let a: Api;
  let env: Record<string, string>;
  const fleets: Fleet[] = [];
  let serial = 0;
  /** Where the policy files of the tests go. */
  let dir: string;

  beforeAll(async () => {
    // A Prometheus nobody runs: a policy may name queries (they then have NO_DATA).
    server = await startTestServer({ PROMETHEUS_URL: `http://127.0.0.1:${await freePort()}` });
    a = api(server);
    env = { HOTSWAP_URL: server.url, HOTSWAP_TOKEN: await server.token(Role.OPERATOR, { sub: 'ci-orders' }) };
    dir = await mkdtemp(path.join(os.tmpdir(), 'hotswap-cli-deploy-'));
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cli = (args: string[], extraEnv: Record<string, string> = {}, timeoutMs = 30_000) => runCli(args, { env: { ...env, ...extraEnv }, timeoutMs });
  /**
   * A profile with versions 1 and 2 and a fleet of `count` running version 1
   * (deployed DIRECT through the API), reporting healthy metrics so a baseline exists.
   */
  async function setUp(
    count: number,
    behavior: (i: number) => Behavior = () => ackOk(1),
    metricsOf: (i: SimInstance) => Record<string, unknown> = () => HEALTHY,
  ): Promise<{ name: string; fleet: Fleet }> {
    const name = `cli-deploy-${++serial}`;
    const { f: fleet } = await fleetOnVersion1(a, name, { count, behavior, metricsOf, fleets });
    return { name, fleet };
  }

  /** The health policy the deployment keeps, as the server completed it. */
  async function storedPolicy(id: string): Promise<Record<string, unknown>> {
    const [row] = await server.db.query<{ health_policy: Record<string, unknown> }>('select health_policy from deployment where id = $1', [id]);
    return row!.health_policy;
  }

  /** A policy file in this file's temp directory. */
  async function policyFile(name: string, content: string): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, content);
    return file;
  }

  const startedId = (stdout: string) => (JSON.parse(stdout) as { startDeployment: { id: string } }).startDeployment.id;

  /** A profile with `versions` versions and `instances` instances that ack at once (none: nothing can be deployed). */
  async function bareProfile(versions = 1, instances = 0): Promise<string> {
    const name = `cli-bare-${++serial}`;
    await profileWithVersions(a, name, versions);
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
      for (const flag of ['--confidence', '--min-samples', '--pass-threshold', '--marginal-threshold', '--error-rate-tolerance', '--latency-tolerance-pct', '--metric', '--health-policy-file']) {
        expect(r.stdout).toContain(flag);
      }
      // The fixed limits are extra limits now, none by default; the --metric syntax is spelled out, with a query in an example.
      expect(r.stdout.replace(/\s+/g, ' ')).toContain('error-rate increase over the control as a share (0.05 = +5 points); none by default');
      expect(r.stdout.replace(/\s+/g, ' ')).toContain('query=PROMQL (a comma inside its brackets or quotes stays in the query)');
      expect(r.stdout).toContain("--metric 'p99:query=histogram_quantile(0.99,");
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
      expect(await activeVersion(a, name)).toBe(2);
    }, 40_000);

    it('canary with healthy instances: promotes phase by phase and exits 0', async () => {
      const { name, fleet } = await setUp(4);
      const r = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '1', '--ack-timeout-seconds', '5', '--wait']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/HEALTH_CHECKED\s+IN_PROGRESS\s+phase 1\/2/);
      expect(r.stdout).toMatch(/PHASE_STARTED\s+IN_PROGRESS\s+phase 2\/2/);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toMatch(/^deployment \S+ COMPLETED$/);
      // Under each verdict's event line, one indented line per metric: its reason, a sentence ending in its verdict.
      const checked = lines.findIndex((l) => /HEALTH_CHECKED\s+IN_PROGRESS\s+phase 1\/2 .*healthy/.test(l));
      expect(checked, r.stdout).toBeGreaterThan(0);
      expect(lines[checked + 1]).toMatch(/^ {4}error rate: canary median 1 % vs control 1 % \(n=\d+\/\d+\).*: PASS$/);
      expect(lines[checked + 2]).toMatch(/^ {4}p99 latency: canary median 100 ms vs control 100 ms .*: PASS$/);
      // The summary repeats the last verdict's metrics before the outcome.
      const summary = lines.findIndex((l) => /^last health verdict, \S+Z: healthy, score 1$/.test(l));
      expect(summary, r.stdout).toBe(lines.length - 4);
      expect(lines.slice(-3, -1)).toEqual([expect.stringMatching(/^ {4}error rate: .*: PASS$/), expect.stringMatching(/^ {4}p99 latency: .*: PASS$/)]);
      expect(fleet.instances.map((i) => i.appliedVersion())).toEqual([2, 2, 2, 2]);
      expect(await activeVersion(a, name)).toBe(2);
    }, 40_000);

    it('a canary whose instances fail the ack is ROLLED_BACK: exit 2 with the reason', async () => {
      const { name, fleet } = await setUp(2, () => laterVersions(ackFail('config rejected: pool size')));
      const r = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '1', '--ack-timeout-seconds', '5', '--wait']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stdout).toContain('ROLLBACK_STARTED');
      expect(r.stdout).toMatch(/^deployment \S+ ROLLED_BACK: .+/m);
      expect(fleet.instances.map((i) => i.appliedVersion())).toEqual([1, 1]);
      expect(await activeVersion(a, name)).toBe(1);
    }, 40_000);

    it('a canary whose instances degrade is ROLLED_BACK: the failing metric says why, under the verdict and in the summary', async () => {
      const { name, fleet } = await setUp(4, () => ackOk(1), (i) => (i.appliedVersion() === 2 ? DEGRADED : HEALTHY));
      const r = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '1', '--ack-timeout-seconds', '5', '--wait']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      const lines = r.stdout.trimEnd().split('\n');
      const failed = lines.findIndex((l) => / phase 1\/2 .*degraded/.test(l));
      expect(failed, r.stdout).toBeGreaterThan(0);
      const metrics = lines.slice(failed + 1, failed + 3);
      expect(metrics).toEqual([
        expect.stringMatching(/^ {4}error rate: canary median 30 % vs control 1 % \(n=\d+\/\d+\), p[<=][\d.]+, \+29 points > tolerance 0\.5: FAIL$/),
        expect.stringMatching(/^ {4}p99 latency: canary median 480 ms vs control 100 ms .*: FAIL$/),
      ]);
      expect(lines.at(-1)).toMatch(/^deployment \S+ ROLLED_BACK: .*error rate/);
      expect(lines.slice(-4, -1)).toEqual([expect.stringMatching(/^last health verdict, \S+Z: degraded$/), ...metrics]);
      await pollUntil(async () => fleet.instances.map((i) => i.appliedVersion()), (v) => v.every((x) => x === 1), { timeoutMs: 10_000, what: 'the fleet back on version 1' });
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
      type Health = { verdict: string; score: number | null; outliers: string[]; metrics: Array<Record<string, unknown>> };
      const { deployment } = JSON.parse(r.stdout) as { deployment: { strategy: string; status: string; phaseCount: number; targets: Array<{ state: string }>; health: Health } };
      expect(deployment).toMatchObject({ strategy: 'ROLLING', status: 'COMPLETED', phaseCount: 3 });
      expect(deployment.targets.map((t) => t.state)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
      // The last verdict with its per-metric verdicts, every field of them.
      expect(deployment.health).toMatchObject({ verdict: 'PASS', score: 1, outliers: [] });
      expect(deployment.health.metrics.map((m) => m.name)).toEqual(['errorRate', 'latencyP99Ms']);
      expect(deployment.health.metrics[0]).toEqual({
        name: 'errorRate', verdict: 'PASS', check: 'MANN_WHITNEY', unit: 'SHARE', direction: 'INCREASE', critical: true, weight: 1,
        reference: expect.any(String), canaryCount: expect.any(Number), controlCount: expect.any(Number), canaryMedian: 0.01, controlMedian: 0.01,
        effect: 0, pValue: expect.any(Number), tolerance: 0.005, reason: expect.stringMatching(/^error rate: .*: PASS$/),
      });
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
      expect(row?.health_policy).toMatchObject({
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

  describe('the health policy', () => {
    const PROMQL = 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="{{service}}",instance=~"{{instances}}"}[1m])))';
    /** A canary of a fleet without metrics, promoted at once for lack of evidence (the policy is what these tests look at). */
    const canary = (name: string, ...flags: string[]) => [
      'deploy', '--profile', name, '--version', '1', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '0',
      '--evidence-timeout-seconds', '0', '--on-inconclusive', 'promote', '--json', ...flags,
    ];

    it('the rank-test flags and --metric specs reach the stored policy, a query with its commas whole', async () => {
      const name = await bareProfile(1, 2);
      const r = await cli(canary(name,
        '--confidence', '0.99', '--min-samples', '5', '--pass-threshold', '0.9', '--marginal-threshold', '0.6',
        '--error-rate-tolerance', '0.01', '--latency-tolerance-pct', '25',
        '--metric', 'queueDepth:critical,tolerance=5',
        '--metric', `p99:query=${PROMQL},unit=ms,tolerancePct=20`,
        '--metric', 'freeMemory: direction=decrease, weight=0.5',
      ));
      expect(r.code, r.stderr).toBe(0);
      const id = startedId(r.stdout);
      expect(await storedPolicy(id)).toMatchObject({ confidence: 0.99, minSamples: 5, passThreshold: 0.9, marginalThreshold: 0.6, maxErrorRateIncrease: null });
      expect((await storedPolicy(id)).metrics).toEqual([
        { name: 'errorRate', query: null, unit: 'share', direction: 'increase', critical: true, weight: 1, tolerance: 0.01, tolerancePct: 10 },
        { name: 'latencyP99Ms', query: null, unit: 'ms', direction: 'increase', critical: false, weight: 1, tolerance: null, tolerancePct: 25 },
        { name: 'queueDepth', query: null, unit: 'plain', direction: 'increase', critical: true, weight: 1, tolerance: 5, tolerancePct: 10 },
        { name: 'p99', query: PROMQL, unit: 'ms', direction: 'increase', critical: false, weight: 1, tolerance: null, tolerancePct: 20 },
        { name: 'freeMemory', query: null, unit: 'plain', direction: 'decrease', critical: false, weight: 0.5, tolerance: null, tolerancePct: 10 },
      ]);
      await waitForDeployment(a, id, 20_000);
    }, 40_000);

    it('--health-policy-file gives the policy; flags override its fields, --metric its metrics by name', async () => {
      const name = await bareProfile(1, 2);
      const file = await policyFile('policy.json', JSON.stringify({
        confidence: 0.9,
        minSamples: 20,
        maxLatencyIncreasePct: 80,
        customThresholds: { queueDepth: 100 },
        metrics: [
          { name: 'queueDepth', unit: 'plain', weight: 2, tolerance: 3 },
          { name: 'latencyP99Ms', tolerance: 50 },
          { name: 'p99', query: PROMQL, unit: 'ms', direction: 'increase' },
        ],
      }));
      const r = await cli(canary(name, '--health-policy-file', file, '--confidence', '0.95', '--metric', 'queueDepth:tolerance=4', '--latency-tolerance-pct', '30', '--threshold', 'gcMs=50'));
      expect(r.code, r.stderr).toBe(0);
      const id = startedId(r.stdout);
      const policy = await storedPolicy(id);
      expect(policy).toMatchObject({ confidence: 0.95, minSamples: 20, maxLatencyIncreasePct: 80, customThresholds: { queueDepth: 100, gcMs: 50 }, onInconclusive: 'PROMOTE' });
      expect(policy.metrics).toEqual([
        { name: 'errorRate', query: null, unit: 'share', direction: 'increase', critical: true, weight: 1, tolerance: 0.005, tolerancePct: 10 },
        { name: 'queueDepth', query: null, unit: 'plain', direction: 'increase', critical: false, weight: 2, tolerance: 4, tolerancePct: 10 },
        // --latency-tolerance-pct replaces the file's tolerance in ms: the percentage applies.
        { name: 'latencyP99Ms', query: null, unit: 'ms', direction: 'increase', critical: false, weight: 1, tolerance: null, tolerancePct: 30 },
        { name: 'p99', query: PROMQL, unit: 'ms', direction: 'increase', critical: false, weight: 1, tolerance: null, tolerancePct: 10 },
      ]);

      await waitForDeployment(a, id, 20_000);

      // YAML too, and its enum values in any case.
      const yaml = await policyFile('policy.yaml', 'minHeartbeats: 3\nonInconclusive: promote\nevidenceTimeoutSeconds: 0\nmetrics:\n  - name: freeMemory\n    direction: decrease\n');
      const y = await cli(['deploy', '--profile', name, '--version', '1', '--strategy', 'rolling', '--batch-percent', '50', '--interval-seconds', '0', '--health-policy-file', yaml, '--json']);
      expect(y.code, y.stderr).toBe(0);
      const yamlId = startedId(y.stdout);
      const fromYaml = await storedPolicy(yamlId);
      expect(fromYaml).toMatchObject({ minHeartbeats: 3, onInconclusive: 'PROMOTE' });
      expect(fromYaml.metrics).toContainEqual(expect.objectContaining({ name: 'freeMemory', direction: 'decrease' }));
      await waitForDeployment(a, yamlId, 20_000);
    }, 40_000);

    it('refuses bad health flags and policy files with one line naming the flag (exit 4), before anything starts', async () => {
      const name = await bareProfile(1, 1);
      const notJson = await policyFile('broken.json', '{ "confidence": 0.9,');
      const unknownField = await policyFile('unknown.json', JSON.stringify({ confidence: 0.9, maxErrorRate: 0.1 }));
      const badMetric = await policyFile('bad-metric.json', JSON.stringify({ metrics: [{ name: 'queueDepth', tol: 3 }] }));
      const cases: Array<[string[], RegExp]> = [
        [['--confidence', 'high'], /^--confidence must be a number, got "high"$/],
        [['--confidence', '1'], /^--confidence must be a confidence from 0\.5 to under 1 \(0\.98 = 98 %\), got "1"$/],
        [['--min-samples', '2.5'], /^--min-samples must be a whole number from 1 to 1000, got "2\.5"$/],
        [['--pass-threshold', '95'], /^--pass-threshold must be a score from 0 to 1, got "95"$/],
        [['--marginal-threshold', ''], /^--marginal-threshold must be a number, got ""$/],
        [['--error-rate-tolerance', '0.5%'], /^--error-rate-tolerance must be a number, got "0\.5%"$/],
        [['--latency-tolerance-pct', '-5'], /^--latency-tolerance-pct must be a percentage ≥ 0/],
        [['--metric', 'queueDepth:critcal'], /^--metric "queueDepth:critcal": unknown option "critcal"; the spec is name\[:option,…\]/],
        [['--metric', 'queueDepth:weight=heavy'], /^--metric "queueDepth:weight=heavy": weight must be a weight from 0 to 1000, got "heavy"$/],
        [['--metric', 'queueDepth:unit=seconds'], /^--metric "queueDepth:unit=seconds": unit must be share, ms, plain, got "seconds"$/],
        [['--metric', 'p99:query=sum(rate(x[1m])'], /^--metric "p99:query=sum\(rate\(x\[1m\]\)": its brackets or quotes do not match$/],
        [['--metric', 'queue depth'], /^--metric "queue depth": the name must be/],
        [['--metric', 'q', '--metric', 'q:critical'], /^--metric names q twice/],
        [['--error-rate-tolerance', '0.01', '--metric', 'errorRate:tolerance=0.02'], /^give --error-rate-tolerance or --metric errorRate:tolerance…, not both$/],
        [['--health-policy-file', path.join(dir, 'missing.json')], /^cannot read .*missing\.json: ENOENT$/],
        [['--health-policy-file', notJson], /^.*broken\.json is not valid JSON/],
        [['--health-policy-file', unknownField], /^--health-policy-file .*unknown\.json: unknown field maxErrorRate; HealthPolicyInput has /],
        [['--health-policy-file', badMetric], /^--health-policy-file .*bad-metric\.json: metrics\[0\] \(queueDepth\): unknown field tol; a metric has name, query/],
        // What only the server can tell: the thresholds together.
        [['--pass-threshold', '0.5', '--marginal-threshold', '0.7'], /^BAD_USER_INPUT: health\.marginalThreshold must be a score from 0 to passThreshold \(0\.5\), got 0\.7$/],
      ];
      for (const [flags, line] of cases) {
        const r = await cli(['deploy', '--profile', name, '--version', '1', '--strategy', 'canary', ...flags]);
        expect(r.code, `${flags.join(' ')}: ${r.stdout}${r.stderr}`).toBe(4);
        expect(errorLines(r)[0], flags.join(' ')).toMatch(line);
      }
      const direct = await cli(['deploy', '--profile', name, '--version', '1', '--strategy', 'direct', '--metric', 'queueDepth']);
      expect(direct.code).toBe(4);
      expect(errorLines(direct)).toEqual(['--metric does not apply to --strategy direct (only to canary, blue-green, rolling)']);
      expect(await countDeployments(a, name)).toBe(0);
    }, 60_000);
  });
});
