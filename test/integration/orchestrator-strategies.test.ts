import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentStrategy } from '../../src/domain/enums.js';
import { HEALTHY, DEGRADED, ADMIN, stepHarness, type Scenario } from '../support/orchestrator-steps.js';

/** The orchestrator driven step by step, as a runner would, on a real PostgreSQL (see test/support/orchestrator-steps.ts). */
describe('orchestrator: blue-green and rolling step by step', () => {
  const h = stepHarness();
  const { scenario, lease, step, drain, pushedIds, ack, beat, row, targets, eventRows, activeVersion, waitObservation } = h;

  beforeAll(() => h.start());
  afterAll(() => h.stop());

  describe('blue-green', () => {
    let s: Scenario;

    beforeAll(async () => {
      s = await scenario({ strategy: DeploymentStrategy.BLUE_GREEN, phaseSizes: [2], verifySeconds: 1, activeColorInstances: 2 });
    });

    it('pushes to the idle color only, verifies, then switches traffic and completes', async () => {
      await step(s);
      expect(pushedIds(drain())).toEqual([...s.phases[0]!].sort());
      await ack(s, s.phases[0]!, 2);
      await beat(s.phases[0]!, HEALTHY);
      await step(s);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last.message).toMatch(/verifying 1 s before judging health$/);
      await waitObservation(s.id);
      expect((await step(s)).done).toBe(true);
      const evs = await eventRows(s.id);
      expect(evs.slice(-3).map((e) => e.type)).toEqual(['HEALTH_CHECKED', 'TRAFFIC_SWITCHED', 'COMPLETED']);
      expect(evs.at(-2)!.message).toBe('traffic switched from BLUE to GREEN');
      const [traffic] = await h.graph.tdb.query<{ active_color: string; deployment_id: string }>(
        'select active_color, deployment_id from traffic_color where service = $1 and environment = $2',
        [s.service, 'STAGING'],
      );
      expect(traffic).toEqual({ active_color: 'GREEN', deployment_id: s.id });
      expect((await row(s.id)).strategy_state.switched).toBe(true);
      expect(await activeVersion(s)).toBe(2);
      expect(drain()).toEqual([]);
    });

    it('rolled back after the switch, switches traffic back at once without pushing anything', async () => {
      await h.graph.deployments.rollback(ADMIN, s.id, 'errors on GREEN');
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
      await lease(s.id, s.owner);
      const result = await step(s);
      expect(result.done).toBe(true);
      expect(drain()).toEqual([]);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLED_BACK');
      expect(r.strategy_state.switched).toBe(false);
      const [traffic] = await h.graph.tdb.query<{ active_color: string }>('select active_color from traffic_color where service = $1', [s.service]);
      expect(traffic!.active_color).toBe('BLUE');
      expect(await activeVersion(s)).toBe(1);
      const evs = await eventRows(s.id);
      expect(evs.slice(-2).map((e) => e.type)).toEqual(['TRAFFIC_SWITCHED', 'ROLLED_BACK']);
      expect(evs.at(-2)!.message).toBe('traffic switched back from GREEN to BLUE, which runs version 1');
      expect(evs.at(-1)!.message).toBe('BLUE takes traffic again: errors on GREEN');
      // GREEN keeps the new version: nothing was pushed to it.
      expect((await targets(s.id)).every((t) => t.state === 'APPLIED' && t.version === 2)).toBe(true);
    });

    it('degraded before the switch: pushes the previous version to the idle color only, traffic never moves', async () => {
      const bg = await scenario({ strategy: DeploymentStrategy.BLUE_GREEN, phaseSizes: [2], verifySeconds: 0, activeColorInstances: 2 });
      await step(bg);
      drain();
      await ack(bg, bg.phases[0]!, 2);
      await beat(bg.phases[0]!, DEGRADED);
      await step(bg); // judged degraded: rollback
      expect((await row(bg.id)).status).toBe('ROLLING_BACK');
      await step(bg);
      const pushes = drain();
      expect(pushedIds(pushes, 1)).toEqual([...bg.phases[0]!].sort());
      expect(pushedIds(pushes)).toEqual([...bg.phases[0]!].sort());
      await ack(bg, bg.phases[0]!, 1);
      expect((await step(bg)).done).toBe(true);
      expect((await row(bg.id)).status).toBe('ROLLED_BACK');
      expect(await h.graph.tdb.query('select 1 from traffic_color where service = $1', [bg.service])).toEqual([]);
      expect((await eventRows(bg.id)).some((e) => e.type === 'TRAFFIC_SWITCHED')).toBe(false);
    });
  });

  describe('rolling', () => {
    it('waits intervalSeconds after every batch, the last one too, and rolls back a last batch that degrades meanwhile', async () => {
      const s = await scenario({ strategy: DeploymentStrategy.ROLLING, phaseSizes: [1, 1], intervalSeconds: 1 });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await beat(s.phases[0]!, HEALTHY);
      const first = await step(s);
      expect(first.waitMs).toBe(1000);
      expect((await eventRows(s.id)).at(-1)!.message).toBe('phase 1 of 2: 1 of 1 applied; waiting 1 s before judging health');
      await waitObservation(s.id);
      await step(s);
      await step(s);
      expect(pushedIds(drain())).toEqual(s.phases[1]);
      await ack(s, s.phases[1]!, 2);
      const last = await step(s);
      expect(last).toEqual({ done: false, waitMs: 1000 });
      expect((await eventRows(s.id)).at(-1)!.message).toBe('phase 2 of 2: 1 of 1 applied; waiting 1 s before judging health');
      // The last batch reports degraded metrics while it is watched.
      await beat(s.phases[1]!, DEGRADED);
      await waitObservation(s.id);
      await step(s);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLING_BACK');
      expect(r.rollback_reason).toMatch(/^phase 2 of 2: health degraded: /);
      await step(s);
      expect(pushedIds(drain(), 1)).toEqual([...s.phases.flat()].sort());
    });
  });
});
