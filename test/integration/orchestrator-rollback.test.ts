import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEGRADED, ADMIN, sleep, stepHarness, type Scenario } from '../support/orchestrator-steps.js';

/** The orchestrator driven step by step, as a runner would, on a real PostgreSQL (see test/support/orchestrator-steps.ts). */
describe('orchestrator: rollbacks and pauses step by step', () => {
  const h = stepHarness();
  const { scenario, step, drain, pushedIds, ack, row, stateOf, eventRows, runPhase } = h;

  beforeAll(() => h.start());
  afterAll(() => h.stop());

  describe('rollback outcomes', () => {
    it('FAILED, naming the instance, when a target does not ack the previous version in time', async () => {
      const s = await scenario({ phaseSizes: [2, 1], ackTimeoutSeconds: 2 });
      await runPhase(s, 1, DEGRADED);
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
      await step(s);
      expect(pushedIds(drain(), 1)).toEqual([...s.phases[0]!].sort());
      const [answers, silent] = [...s.phases[0]!].sort() as [string, string];
      await ack(s, [answers], 1);
      let result = await step(s);
      expect(result.done).toBe(false);
      await sleep(2100);
      result = await step(s);
      expect(result.done).toBe(true);
      const r = await row(s.id);
      expect(r.status).toBe('FAILED');
      expect(r.failure_reason).toContain('rollback to version 1 incomplete: 1 of 3 instances did not come back to version 1');
      expect(r.failure_reason).toContain(`${silent} (TIMED_OUT: no ack within 2 s)`);
      expect(await stateOf(s.id, answers)).toMatchObject({ state: 'ROLLED_BACK' });
      expect(await stateOf(s.id, silent)).toMatchObject({ state: 'TIMED_OUT' });
      expect(await stateOf(s.id, s.phases[1]![0]!)).toMatchObject({ state: 'PENDING' });
      expect((await eventRows(s.id)).at(-1)).toMatchObject({ type: 'FAILED', status: 'FAILED' });
    });

    it('FAILED with "no previous version" when the profile had no active version before', async () => {
      const s = await scenario({ phaseSizes: [1, 1], previousVersion: null });
      await runPhase(s, 1, DEGRADED);
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
      const result = await step(s);
      expect(result.done).toBe(true);
      expect(drain()).toEqual([]);
      const r = await row(s.id);
      expect(r.status).toBe('FAILED');
      expect(r.failure_reason).toMatch(/^phase 1 of 2: health degraded: .*; version 2 was the profile's first active version, so there is no previous version to restore/);
      expect(await stateOf(s.id, s.phases[0]![0]!)).toMatchObject({ state: 'APPLIED', version: 2 });
      expect((await eventRows(s.id)).at(-1)!.type).toBe('FAILED');
    });

    it('rolls back when an instance fails to apply a phase, without judging its health', async () => {
      const s = await scenario({ phaseSizes: [2, 1], bakeSeconds: 5 });
      await step(s);
      drain();
      const [good, bad] = s.phases[0] as [string, string];
      await ack(s, [good], 2);
      await ack(s, [bad], 2, false, 'bad config');
      await step(s);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLING_BACK');
      expect(r.rollback_reason).toBe(`phase 1 of 2: 1 of 2 instances did not apply: ${bad} (FAILED: bad config)`);
      const types = (await eventRows(s.id)).map((e) => e.type);
      expect(types).toEqual(['PHASE_STARTED', 'PHASE_COMPLETED', 'ROLLBACK_STARTED']);
      // The failed instance was sent the new version too: it gets the previous one back as well.
      await step(s);
      expect(pushedIds(drain(), 1)).toEqual([good, bad].sort());
    });

    it('FAILED instead of rolling back when a phase does not apply and autoRollback is off', async () => {
      const s = await scenario({ phaseSizes: [1, 1], autoRollback: false });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2, false, 'nope');
      const result = await step(s);
      expect(result.done).toBe(true);
      const r = await row(s.id);
      expect(r.status).toBe('FAILED');
      expect(r.failure_reason).toBe(`phase 1 of 2: 1 of 1 instances did not apply: ${s.phases[0]![0]!} (FAILED: nope)`);
      expect(drain()).toEqual([]);
    });
  });

  describe('degraded with autoRollback off', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = await scenario({ phaseSizes: [1, 1], autoRollback: false, bakeSeconds: 1 });
      await runPhase(s, 1, DEGRADED);
    });

    it('pauses with the verdict instead of rolling back', async () => {
      const r = await row(s.id);
      expect(r.status).toBe('PAUSED');
      expect(r.strategy_state.healthOverridden).toBe(true);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last.type).toBe('PAUSED');
      expect(last.message).toMatch(/^phase 1 of 2: health degraded: .*; autoRollback is off: resume to go on, or roll back$/);
      expect(last.health).toMatchObject({ healthy: false });
      expect(drain()).toEqual([]);
    });

    it('a step on a PAUSED deployment is not done, pushes nothing and records nothing', async () => {
      const before = await eventRows(s.id);
      const result = await step(s);
      expect(result.done).toBe(false);
      expect(result.waitMs).toBeGreaterThan(0);
      expect(drain()).toEqual([]);
      expect(await eventRows(s.id)).toHaveLength(before.length);
      expect((await row(s.id)).status).toBe('PAUSED');
    });

    it('resumed, it accepts the phase as it is and goes on with the next phase', async () => {
      await h.graph.deployments.resume(ADMIN, s.id);
      let result = await step(s);
      expect(result.done).toBe(false);
      const evs = await eventRows(s.id);
      expect(evs.at(-1)).toMatchObject({ type: 'PHASE_STARTED', phase: 2 });
      expect(evs.at(-2)).toMatchObject({ type: 'HEALTH_CHECKED', phase: 1 });
      expect(evs.at(-2)!.health!.healthy).toBe(false);
      expect(evs.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.phase)).toEqual([1]);
      expect(evs.map((e) => e.type)).toContain('RESUMED');
      result = await step(s);
      expect(result.done).toBe(false);
      expect(pushedIds(drain())).toEqual(s.phases[1]);
      expect((await row(s.id)).strategy_state.healthOverridden).toBe(false);
    });
  });

  describe('degraded with autoRollback off and no bake', () => {
    it('resumed, completes the judged phase only once (no second PHASE_COMPLETED)', async () => {
      const s = await scenario({ phaseSizes: [1, 1], autoRollback: false, bakeSeconds: 0 });
      await runPhase(s, 1, DEGRADED);
      expect((await row(s.id)).status).toBe('PAUSED');
      await h.graph.deployments.resume(ADMIN, s.id);
      await step(s);
      const evs = await eventRows(s.id);
      expect(evs.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.phase)).toEqual([1]);
      expect(evs.at(-1)).toMatchObject({ type: 'PHASE_STARTED', phase: 2 });
    });
  });
});
