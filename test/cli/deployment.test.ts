import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { api, type Api, foreignToken } from '../support/api.js';
import { errorLines, runCli } from '../support/cli.js';
import {
  ackFail,
  ackOk,
  type Behavior,
  deployAndWait,
  type Fleet,
  readDeployment,
  startDeployment,
  startFleet,
  waitForDeployment,
} from '../support/fleet.js';
import { activeVersion, countDeployments, fleetOnVersion1, laterVersions, profileWithVersions } from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

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
  /**
   * A profile with versions 1 and 2 and a fleet of `count` running version 1
   * (deployed DIRECT through the API), reporting healthy metrics so a baseline exists.
   */
  async function setUp(count: number, behavior: (i: number) => Behavior = () => ackOk(1)): Promise<{ name: string; fleet: Fleet }> {
    const name = `cli-deploy-${++serial}`;
    const { f: fleet } = await fleetOnVersion1(a, name, { count, behavior, fleets });
    return { name, fleet };
  }

  /** A profile with `versions` versions and `instances` instances that ack at once (none: nothing can be deployed). */
  async function bareProfile(versions = 1, instances = 0): Promise<string> {
    const name = `cli-bare-${++serial}`;
    await profileWithVersions(a, name, versions);
    if (instances > 0) fleets.push(await startFleet(a, { service: `${name}-svc`, count: instances }));
    return name;
  }

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
      expect(await countDeployments(a, name)).toBe(0);
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
      expect(await countDeployments(a, name)).toBe(0);
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
      expect(await countDeployments(a, name)).toBe(0);
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
      expect(await activeVersion(a, name)).toBe(1);
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
