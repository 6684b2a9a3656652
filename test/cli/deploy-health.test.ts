import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLines, spawnCli } from '../support/cli.js';
import { deployCliHarness } from '../support/cli-deploy.js';
import { ackOk, HEALTHY, readDeployment, waitForDeployment } from '../support/fleet.js';
import { countDeployments, DEGRADED } from '../support/progressive.js';
import { pollUntil, waitFor } from '../support/wait.js';

/** `hotswap deploy` and the health policy: its flags and policy files, and how its verdicts show (see deploy.test.ts for the rest). */
describe('hotswap deploy: the health policy', () => {
  const h = deployCliHarness();
  const { cli, setUp, bareProfile } = h;
  /** Where the policy files of the tests go. */
  let dir: string;

  beforeAll(async () => {
    await h.start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'hotswap-cli-deploy-health-'));
  }, 30_000);
  afterAll(async () => {
    await h.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The health policy the deployment keeps, as the server completed it. */
  async function storedPolicy(id: string): Promise<Record<string, unknown>> {
    const [row] = await h.server.db.query<{ health_policy: Record<string, unknown> }>('select health_policy from deployment where id = $1', [id]);
    return row!.health_policy;
  }

  /** A policy file in this file's temp directory. */
  async function policyFile(name: string, content: string): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, content);
    return file;
  }

  const startedId = (stdout: string) => (JSON.parse(stdout) as { startDeployment: { id: string } }).startDeployment.id;

  describe('deploy --wait', () => {
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
  });

  describe('a canary without evidence', () => {
    it('pauses as inconclusive: the follow lines and deployment show say so, never healthy', async () => {
      const name = await bareProfile(1, 2);
      const r = await cli(['deploy', '--profile', name, '--version', '1', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '0', '--evidence-timeout-seconds', '1', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const { id } = (JSON.parse(r.stdout) as { startDeployment: { id: string } }).startDeployment;
      await pollUntil(async () => (await readDeployment(h.a, id))?.status, (s) => s === 'PAUSED', { timeoutMs: 15_000, what: 'the canary to pause' });

      const shown = await cli(['deployment', 'show', id]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toMatch(/^health: +inconclusive$/m);
      expect(shown.stdout).toMatch(/^ {2}- not enough evidence: 0 of 1 updated instance sent 2 heartbeats with metrics since applying \(1 needed\)$/m);
      expect(shown.stdout).not.toMatch(/healthy/);

      // A paused deployment goes on: following shows its events until Ctrl-C.
      const follow = spawnCli(['deployment', 'follow', id], h.env);
      await waitFor('the PAUSED line', () => /PAUSED\s+PAUSED/.test(follow.stdout()), 15_000);
      follow.child.kill('SIGINT');
      const followed = await follow.done;
      expect(followed.code).toBe(130);
      expect(followed.stdout).toMatch(/HEALTH_INCONCLUSIVE\s+IN_PROGRESS\s+phase 1\/2 .*inconclusive: not enough evidence/);
      expect(followed.stdout).toMatch(/PAUSED\s+PAUSED\s+phase 1\/2 .*health inconclusive/);
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
      await waitForDeployment(h.a, id, 20_000);
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

      await waitForDeployment(h.a, id, 20_000);

      // YAML too, and its enum values in any case.
      const yaml = await policyFile('policy.yaml', 'minHeartbeats: 3\nonInconclusive: promote\nevidenceTimeoutSeconds: 0\nmetrics:\n  - name: freeMemory\n    direction: decrease\n');
      const y = await cli(['deploy', '--profile', name, '--version', '1', '--strategy', 'rolling', '--batch-percent', '50', '--interval-seconds', '0', '--health-policy-file', yaml, '--json']);
      expect(y.code, y.stderr).toBe(0);
      const yamlId = startedId(y.stdout);
      const fromYaml = await storedPolicy(yamlId);
      expect(fromYaml).toMatchObject({ minHeartbeats: 3, onInconclusive: 'PROMOTE' });
      expect(fromYaml.metrics).toContainEqual(expect.objectContaining({ name: 'freeMemory', direction: 'decrease' }));
      await waitForDeployment(h.a, yamlId, 20_000);
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
      expect(await countDeployments(h.a, name)).toBe(0);
    }, 60_000);
  });
});
