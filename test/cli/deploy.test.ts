import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli.js';
import { deployCliHarness } from '../support/cli-deploy.js';
import { ackFail, ackOk, readDeployment, waitForDeployment } from '../support/fleet.js';
import { activeVersion, laterVersions } from '../support/progressive.js';
import { waitFor } from '../support/wait.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

/** The general `hotswap deploy` tests; the health policy's flags, files and verdicts are in deploy-health.test.ts. */
describe('hotswap deploy and deployment', () => {
  const h = deployCliHarness();
  const { cli, setUp, bareProfile } = h;

  beforeAll(() => h.start(), 30_000);
  afterAll(() => h.stop());

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
      expect(await activeVersion(h.a, name)).toBe(2);
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
      expect(await activeVersion(h.a, name)).toBe(2);
    }, 40_000);

    it('a canary whose instances fail the ack is ROLLED_BACK: exit 2 with the reason', async () => {
      const { name, fleet } = await setUp(2, () => laterVersions(ackFail('config rejected: pool size')));
      const r = await cli(['deploy', '--profile', name, '--version', '2', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '1', '--ack-timeout-seconds', '5', '--wait']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stdout).toContain('ROLLBACK_STARTED');
      expect(r.stdout).toMatch(/^deployment \S+ ROLLED_BACK: .+/m);
      expect(fleet.instances.map((i) => i.appliedVersion())).toEqual([1, 1]);
      expect(await activeVersion(h.a, name)).toBe(1);
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
      const run = spawnCli(['deploy', '--profile', name, '--version', '2', '--strategy', 'canary', '--phases', '50,100', '--bake-seconds', '2', '--wait'], h.env);
      await waitFor('the first event line', () => /CURRENT_STATE|STARTED|PHASE_STARTED/.test(run.stdout()), 20_000);
      run.child.kill('SIGINT');
      const r = await run.done;
      expect(r.code, r.stdout + r.stderr).toBe(130);
      const id = /^deployment (\S+):/m.exec(r.stdout)?.[1];
      expect(id).toBeDefined();
      expect(r.stdout).toContain(`hotswap deployment follow ${id}`);
      expect(r.stdout).not.toMatch(/COMPLETED$/m);
      const d = await waitForDeployment(h.a, id!, 20_000);
      expect(d.status).toBe('COMPLETED');
      expect(fleet.instances.map((i) => i.appliedVersion())).toEqual([2, 2]);
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
      expect((await readDeployment(h.a, id!))?.profileName).toBe(name);
      await waitForDeployment(h.a, id!);

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
      expect((await readDeployment(h.a, started.id))?.version).toBe(3);
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
      const [row] = await h.server.db.query<{ options: unknown; health_policy: unknown; ack_timeout_seconds: number }>(
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
      expect((await waitForDeployment(h.a, id, 20_000)).status).toBe('COMPLETED');

      // These instances report no metrics: promote at once rather than pause for lack of evidence.
      const rolling = await cli([
        'deploy', '--profile', name, '--version', '1', '--strategy', 'ROLLING', '--batch-percent', '50', '--interval-seconds', '0',
        '--evidence-timeout-seconds', '0', '--on-inconclusive', 'PROMOTE', '--json',
      ]);
      expect(rolling.code, rolling.stderr).toBe(0);
      const rollingId = (JSON.parse(rolling.stdout) as { startDeployment: { id: string } }).startDeployment.id;
      const [rollingRow] = await h.server.db.query<{ options: unknown }>('select options from deployment where id = $1', [rollingId]);
      expect(rollingRow?.options).toMatchObject({ strategy: 'ROLLING', rolling: { batchSize: null, batchPercent: 50, intervalSeconds: 0 } });
      await waitForDeployment(h.a, rollingId, 20_000);
    }, 40_000);
  });
});
