import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, ok } from '../support/api.js';
import { type Fleet, HEALTHY, readDeployment, startDeployment, waitForDeployment } from '../support/fleet.js';
import { fleetOnVersion1 as onVersion1 } from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

/**
 * A canary whose bake is shorter than the heartbeat interval, with real
 * graphql-ws instances: it is judged only on heartbeats sent after the
 * instances applied, and never promoted on none.
 */
const HEARTBEAT_MS = 1500;
const VERDICTS = `query($id: ID!) { deployment(id: $id) {
  status phase
  healthChecks { verdict healthy reasons evidence { updated reporting required minHeartbeats } }
  events(last: 50) { type message }
} }`;

interface Verdicts {
  status: string;
  phase: number;
  healthChecks: Array<{ verdict: string; healthy: boolean; reasons: string[]; evidence: { updated: number; reporting: number; required: number; minHeartbeats: number } }>;
  events: Array<{ type: string; message: string | null }>;
}

describe('a canary baked for less than a heartbeat interval', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS) });
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  /** Versions 1 and 2, version 1 on 4 instances, which heartbeat with healthy metrics when `reporting`. */
  const fleetOnVersion1 = async (name: string, reporting: boolean): Promise<Fleet> =>
    (await onVersion1(a, name, { count: 4, metricsOf: reporting ? () => HEALTHY : null, reportEveryMs: HEARTBEAT_MS, fleets })).f;
  const verdicts = async (id: string) => ok(await a.gql<{ deployment: Verdicts }>(VERDICTS, { id })).deployment;

  it('waits for two heartbeats since the apply, then judges and promotes on that evidence', async () => {
    await fleetOnVersion1('evidence-ok', true);
    await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS)); // a baseline of more than the 10 samples a rank test needs
    const started = await startDeployment(a, { profileName: 'evidence-ok', version: 2, strategy: 'CANARY', canary: { phases: [0.5, 1], bakeSeconds: 0 } });
    const done = await waitForDeployment(a, started.id, 30_000);
    expect(done.status).toBe('COMPLETED');
    const v = await verdicts(started.id);
    expect(v.healthChecks.length).toBeGreaterThanOrEqual(2);
    for (const check of v.healthChecks) {
      expect(check).toMatchObject({ verdict: 'PASS', healthy: true, reasons: [] });
      expect(check.evidence.reporting).toBeGreaterThanOrEqual(check.evidence.required);
      expect(check.evidence.minHeartbeats).toBe(2);
    }
    expect(v.events.map((e) => e.type)).not.toContain('HEALTH_INCONCLUSIVE');
  }, 45_000);

  it('with no metrics at all, is never promoted: INCONCLUSIVE at the bound, then PAUSED for an operator', async () => {
    const fleet = await fleetOnVersion1('evidence-none', false);
    const started = await startDeployment(a, {
      profileName: 'evidence-none',
      version: 2,
      strategy: 'CANARY',
      canary: { phases: [0.5, 1], bakeSeconds: 0 },
      health: { evidenceTimeoutSeconds: 2 },
    });
    await pollUntil(() => readDeployment(a, started.id), (d) => d?.status === 'PAUSED', { timeoutMs: 15_000, what: 'the canary to pause' });
    const v = await verdicts(started.id);
    expect(v.phase).toBe(1);
    expect(v.healthChecks.at(-1)).toMatchObject({ verdict: 'INCONCLUSIVE', healthy: false, evidence: { updated: 2, reporting: 0, required: 1 } });
    const types = v.events.map((e) => e.type);
    expect(types.slice(-2)).toEqual(['HEALTH_INCONCLUSIVE', 'PAUSED']);
    expect(types).not.toContain('HEALTH_CHECKED');
    // Only phase 1 got the new version: nothing more was pushed on no evidence.
    expect(fleet.instances.filter((i) => i.appliedVersion() === 2)).toHaveLength(2);
  }, 45_000);
});
