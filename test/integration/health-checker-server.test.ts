import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, ok } from '../support/api.js';
import { type Fleet, HEALTH_FIELDS, HEALTHY, type SimInstance, startDeployment, waitForDeployment } from '../support/fleet.js';
import { DEGRADED, fleetOnVersion1 } from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const DETAILS = `query($id: ID!) { deployment(id: $id) {
  status phase rollbackReason
  health { ${HEALTH_FIELDS} }
  healthChecks(last: 100) { healthy reasons insufficientData }
  events(last: 200) { type phase message }
  targets { instanceId phase state }
} }`;

interface Details {
  status: string;
  phase: number;
  rollbackReason: string | null;
  health: { healthy: boolean; reasons: string[] } | null;
  healthChecks: Array<{ healthy: boolean; reasons: string[]; insufficientData: boolean }>;
  events: Array<{ type: string; phase: number; message: string | null }>;
  targets: Array<{ instanceId: string; phase: number; state: string }>;
}

/** The worker in the real server, checking a canary every 200 ms during a 30 s bake. */
describe('health-check worker in the server', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '200' });
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  const details = async (id: string) => ok(await a.gql<{ deployment: Details }>(DETAILS, { id })).deployment;

  /** Versions 1 and 2, version 1 on a fleet of 5 reporting `metricsOf` (see fleetOnVersion1). */
  const setUp = async (name: string, metricsOf: (i: SimInstance) => Record<string, unknown>) => (await fleetOnVersion1(a, name, { count: 5, metricsOf, fleets })).f;

  it('rolls back a canary that degrades during a 30 s bake long before the bake ends', async () => {
    const f = await setUp('worker-bad', (i) => (i.appliedVersion() === 2 ? DEGRADED : HEALTHY));
    const started = await startDeployment(a, { profileName: 'worker-bad', version: 2, strategy: 'CANARY', canary: { bakeSeconds: 30 }, ackTimeoutSeconds: 5 });
    // Ends well within the 30 s bake: only the periodic check can have judged it.
    const d = await waitForDeployment(a, started.id, 20_000);
    expect(d.status).toBe('ROLLED_BACK');
    const got = await details(started.id);
    // The canary's median: 30 % from every heartbeat after the apply, against the instances not yet updated.
    expect(got.rollbackReason).toMatch(/^periodic check in phase 1 of 4: health degraded: error rate: canary median 30 % vs control 1 % \(n=\d+\/\d+\), p<0\.001, \+29 points > tolerance 0\.5: FAIL/);
    const types = got.events.map((e) => e.type);
    expect(types.filter((t) => t === 'PHASE_STARTED')).toHaveLength(1);
    expect(types).toContain('PHASE_COMPLETED');
    expect(types.slice(-1)).toEqual(['ROLLED_BACK']);
    const judged = got.events.find((e) => e.type === 'HEALTH_CHECKED' && e.message?.startsWith('periodic check: degraded: '));
    expect(judged).toBeDefined();
    expect(got.healthChecks.at(-1)).toMatchObject({ healthy: false });
    const canary = got.targets.filter((t) => t.phase === 1);
    expect(canary.length).toBeGreaterThan(0);
    expect(canary.every((t) => t.state === 'ROLLED_BACK')).toBe(true);
    expect(got.targets.filter((t) => t.phase > 1).every((t) => t.state === 'PENDING')).toBe(true);
    for (const i of f.instances) expect(i.appliedVersion()).toBe(1);
  }, 40_000);

  it('keeps checking a healthy canary during its bake: periodic HEALTH_CHECKED events accumulate', async () => {
    await setUp('worker-ok', () => HEALTHY);
    const started = await startDeployment(a, { profileName: 'worker-ok', version: 2, strategy: 'CANARY', canary: { bakeSeconds: 30 }, ackTimeoutSeconds: 5 });
    const got = await pollUntil(
      () => details(started.id),
      (d) => d.events.filter((e) => e.type === 'HEALTH_CHECKED' && e.message?.startsWith('periodic check: healthy')).length >= 4,
      { timeoutMs: 15_000, intervalMs: 100, what: '4 healthy periodic checks' },
    );
    expect(got.status).toBe('IN_PROGRESS');
    expect(got.phase).toBe(1);
    const checks = got.events.filter((e) => e.type === 'HEALTH_CHECKED');
    expect(checks.every((e) => e.phase === 1)).toBe(true);
    expect(got.events.filter((e) => e.type === 'PHASE_STARTED')).toHaveLength(1);
    expect(got.healthChecks.length).toBeGreaterThanOrEqual(4);
    // The first checks after the acks may come before two heartbeats: INCONCLUSIVE then, never degraded.
    expect(got.healthChecks.every((c) => c.healthy || c.insufficientData)).toBe(true);
    expect(got.health).toMatchObject({ healthy: true, reasons: [] });
    // Still baking: phase 2 has not been pushed.
    expect(got.targets.filter((t) => t.phase > 1).every((t) => t.state === 'PENDING')).toBe(true);
  }, 40_000);
});
