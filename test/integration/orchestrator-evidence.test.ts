import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentStrategy, InconclusiveAction } from '../../src/domain/enums.js';
import { HEALTHY, DEGRADED, ADMIN, sleep, stepHarness, type Scenario, type ScenarioOptions } from '../support/orchestrator-steps.js';

/** The orchestrator driven step by step, as a runner would, on a real PostgreSQL (see test/support/orchestrator-steps.ts). */
describe('orchestrator: health evidence and the periodic check step by step', () => {
  const h = stepHarness();
  const { scenario, step, drain, pushedIds, ack, beat, row, eventRows } = h;

  beforeAll(() => h.start());
  afterAll(() => h.stop());

  describe('a phase without evidence (no heartbeats since the apply)', () => {
    /** Phase 1 pushed and acked, no heartbeat since: the bake (0 s) is over at once. */
    async function silentPhase(o: Partial<ScenarioOptions> = {}): Promise<Scenario> {
      const s = await scenario({ phaseSizes: [2, 1], bakeSeconds: 0, evidenceTimeoutSeconds: 1, ...o });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      return s;
    }

    it('keeps observing, deciding and recording nothing, while the evidence bound is ahead', async () => {
      const s = await silentPhase();
      const first = await step(s);
      expect(first.done).toBe(false);
      expect(first.waitMs).toBeGreaterThan(0);
      expect(first.waitMs).toBeLessThanOrEqual(1000);
      const again = await step(s);
      expect(again.waitMs).toBeLessThanOrEqual(1000);
      expect((await row(s.id)).status).toBe('IN_PROGRESS');
      const types = (await eventRows(s.id)).map((e) => e.type);
      expect(types).not.toContain('HEALTH_CHECKED');
      expect(types).not.toContain('HEALTH_INCONCLUSIVE');
      expect(drain()).toEqual([]);
    });

    it('judges as soon as the evidence comes within the bound: two heartbeats since the apply promote', async () => {
      const s = await silentPhase({ evidenceTimeoutSeconds: 30 });
      await step(s);
      expect((await row(s.id)).phase).toBe(1);
      await beat(s.phases[0]!, HEALTHY);
      await step(s);
      const r = await row(s.id);
      expect(r.phase).toBe(2);
      const checked = (await eventRows(s.id)).find((e) => e.type === 'HEALTH_CHECKED');
      expect(checked?.message).toBe('phase 1 of 2: healthy: 2 updated instances reporting');
    });

    it('one heartbeat since the apply is not evidence', async () => {
      const s = await silentPhase({ evidenceTimeoutSeconds: 30 });
      await beat(s.phases[0]!, HEALTHY, 1);
      await step(s);
      expect((await row(s.id)).phase).toBe(1);
      expect((await eventRows(s.id)).map((e) => e.type)).not.toContain('HEALTH_CHECKED');
    });

    it('past the bound: HEALTH_INCONCLUSIVE with the report, then PAUSED with the reason; resume promotes it as it is', async () => {
      const s = await silentPhase();
      await step(s);
      await sleep(1100);
      const paused = await step(s);
      expect(paused.done).toBe(false);
      expect((await row(s.id)).status).toBe('PAUSED');
      const evs = await eventRows(s.id);
      const inconclusive = evs.find((e) => e.type === 'HEALTH_INCONCLUSIVE');
      expect(inconclusive?.message).toBe(
        'phase 1 of 2: inconclusive: not enough evidence: 0 of 2 updated instances sent 2 heartbeats with metrics since applying (1 needed)',
      );
      expect(inconclusive?.health).toMatchObject({ verdict: 'INCONCLUSIVE', healthy: false, evidence: { updated: 2, reporting: 0, required: 1 } });
      expect(evs.at(-1)).toMatchObject({ type: 'PAUSED' });
      expect(evs.at(-1)!.message).toMatch(/^phase 1 of 2: health inconclusive: not enough evidence: .*; resume to promote it as it is, or roll back$/);
      expect(evs.map((e) => e.type)).not.toContain('HEALTH_CHECKED');
      expect(drain()).toEqual([]);

      await h.graph.deployments.resume(ADMIN, s.id);
      await step(s);
      expect((await row(s.id)).phase).toBe(2);
      await step(s);
      expect(pushedIds(drain())).toEqual(s.phases[1]);
    });

    it('past the bound, rolls back on an operator\'s word', async () => {
      const s = await silentPhase();
      await step(s);
      await sleep(1100);
      await step(s);
      await h.graph.deployments.rollback(ADMIN, s.id, 'no metrics, no promotion');
      await step(s);
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
    });

    it('with onInconclusive PROMOTE, goes on at the bound and says so', async () => {
      const s = await silentPhase({ onInconclusive: InconclusiveAction.PROMOTE });
      await step(s);
      expect((await row(s.id)).phase).toBe(1);
      await sleep(1100);
      await step(s);
      expect((await row(s.id)).phase).toBe(2);
      const checked = (await eventRows(s.id)).find((e) => e.type === 'HEALTH_CHECKED');
      expect(checked?.message).toMatch(/^phase 1 of 2: inconclusive: not enough evidence: .*; promoted all the same \(health.onInconclusive is PROMOTE\)$/);
    });
  });

  describe('checkHealth (the periodic check)', () => {
    it('healthy: records HEALTH_CHECKED and changes nothing', async () => {
      const s = await scenario({ phaseSizes: [1, 1], bakeSeconds: 30 });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await beat(s.phases[0]!, HEALTHY);
      await step(s); // baking
      expect(await h.graph.orchestrator.checkHealth(s.id, s.owner)).toBe(false);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last.type).toBe('HEALTH_CHECKED');
      expect(last.message).toBe('periodic check: healthy: 1 updated instance reporting');
      expect(last.health).toMatchObject({ healthy: true });
      expect(await row(s.id)).toMatchObject({ status: 'IN_PROGRESS', phase: 1 });
      expect(drain()).toEqual([]);
    });

    it('degraded during a bake: records the check and starts the rollback at once', async () => {
      const s = await scenario({ phaseSizes: [1, 1], bakeSeconds: 30 });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await step(s); // baking for 30 s
      expect((await row(s.id)).strategy_state.stage).toBe('OBSERVE');
      await beat(s.phases[0]!, DEGRADED);
      expect(await h.graph.orchestrator.checkHealth(s.id, s.owner)).toBe(true);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLING_BACK');
      expect(r.rollback_reason).toMatch(/^periodic check in phase 1 of 2: health degraded: error rate: canary median 30 % vs baseline 1 % \(n=2\/\d+\), \+29 points > limit 5: FAIL/);
      const evs = await eventRows(s.id);
      expect(evs.slice(-2).map((e) => e.type)).toEqual(['HEALTH_CHECKED', 'ROLLBACK_STARTED']);
      expect(evs.at(-2)!.message).toMatch(/^periodic check: degraded: /);
      // The runner's next step gives the previous version back without waiting for the bake.
      await step(s);
      expect(pushedIds(drain(), 1)).toEqual(s.phases[0]);
    });

    it('degraded without autoRollback: pauses once, and only records checks while paused', async () => {
      const s = await scenario({ phaseSizes: [1, 1], bakeSeconds: 30, autoRollback: false });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await step(s);
      await beat(s.phases[0]!, DEGRADED);
      expect(await h.graph.orchestrator.checkHealth(s.id, s.owner)).toBe(true);
      expect((await row(s.id)).status).toBe('PAUSED');
      expect(await h.graph.orchestrator.checkHealth(s.id, s.owner)).toBe(false);
      const types = (await eventRows(s.id)).map((e) => e.type);
      expect(types.slice(-3)).toEqual(['HEALTH_CHECKED', 'PAUSED', 'HEALTH_CHECKED']);
      expect((await row(s.id)).status).toBe('PAUSED');
    });

    it('returns false and records nothing while no target applied the new version', async () => {
      const s = await scenario({ phaseSizes: [1, 1] });
      await step(s); // pushed, not acked
      drain();
      const before = (await eventRows(s.id)).length;
      expect(await h.graph.orchestrator.checkHealth(s.id, s.owner)).toBe(false);
      expect(await eventRows(s.id)).toHaveLength(before);
    });

    it('returns false and records nothing for a DIRECT deployment, even with degraded instances', async () => {
      const s = await scenario({ strategy: DeploymentStrategy.DIRECT, phaseSizes: [2] });
      await step(s);
      drain();
      await ack(s, [s.phases[0]![0]!], 2);
      await beat(s.phases[0]!, DEGRADED);
      const before = (await eventRows(s.id)).length;
      expect(await h.graph.orchestrator.checkHealth(s.id, s.owner)).toBe(false);
      expect(await eventRows(s.id)).toHaveLength(before);
      expect((await row(s.id)).status).toBe('IN_PROGRESS');
    });
  });
});
