import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage } from '../../src/delivery/push-message.js';
import type { DeploymentEventRecord } from '../../src/domain/deployment-model.js';
import { LeaseLostError } from '../../src/orchestrator/orchestrator.js';
import { HEALTHY, DEGRADED, sleep, stepHarness, type Scenario } from '../support/orchestrator-steps.js';

/** The orchestrator driven step by step, as a runner would, on a real PostgreSQL (see test/support/orchestrator-steps.ts). */
describe('orchestrator: a canary step by step: healthy, then degraded in phase 2', () => {
  const h = stepHarness();
  const { scenario, step, drain, pushedIds, ack, beat, row, targets, stateOf, eventRows, activeVersion, waitObservation, runPhase } = h;

  beforeAll(() => h.start());
  afterAll(() => h.stop());

  describe('a healthy canary, one step at a time', () => {
    let s: Scenario;
    const live: DeploymentEventRecord[] = [];
    const everyPush: PushMessage[] = [];
    let lastWait = 0;

    beforeAll(async () => {
      s = await scenario({ phaseSizes: [1, 1, 2], bakeSeconds: 1 });
      await h.graph.events.subscribe(s.id, (e) => live.push(e));
    });

    it('starts phase 1 from PENDING and pushes the new version to the phase-1 targets only', async () => {
      const result = await step(s);
      expect(result.done).toBe(false);
      expect(result.waitMs).toBeGreaterThan(0);
      const pushes = drain();
      everyPush.push(...pushes);
      expect(pushes).toHaveLength(1);
      expect(pushes[0]!.targets).toEqual(s.phases[0]);
      expect(pushes[0]!.update).toMatchObject({ profileName: s.profileName, version: 2, hash: 'h2', data: { v: 2 }, deploymentId: s.id });
      const r = await row(s.id);
      expect(r).toMatchObject({ status: 'IN_PROGRESS', phase: 1 });
      const t = await targets(s.id);
      expect(t.filter((x) => x.state === 'PUSHED').map((x) => x.instance_id)).toEqual(s.phases[0]);
      expect(t.filter((x) => x.state === 'PENDING')).toHaveLength(3);
      expect((await eventRows(s.id)).map((e) => [e.type, e.phase])).toEqual([['PHASE_STARTED', 1]]);
    });

    it('pushes nothing more while the phase awaits its acks', async () => {
      const result = await step(s);
      expect(result.done).toBe(false);
      expect(result.waitMs).toBeGreaterThan(0);
      expect(result.waitMs).toBeLessThanOrEqual(1000);
      expect(drain()).toEqual([]);
      expect((await row(s.id)).strategy_state.stage).toBe('ROLLOUT');
    });

    it('once every phase-1 target acked, persists the OBSERVE stage with its end and records PHASE_COMPLETED', async () => {
      expect((await ack(s, s.phases[0]!, 2)).accepted).toEqual([true]);
      await beat(s.phases[0]!, HEALTHY);
      const before = Date.now();
      const result = await step(s);
      expect(result.done).toBe(false);
      expect(result.waitMs).toBe(1000);
      const state = (await row(s.id)).strategy_state;
      expect(state.stage).toBe('OBSERVE');
      const until = Date.parse(state.observeUntil!);
      expect(until).toBeGreaterThan(before);
      expect(until).toBeLessThanOrEqual(Date.now() + 1000);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last).toMatchObject({ type: 'PHASE_COMPLETED', phase: 1, status: 'IN_PROGRESS' });
      expect(last.message).toMatch(/^phase 1 of 3: 1 of 1 applied; baking 1 s before judging health$/);
      expect(drain()).toEqual([]);
    });

    it('before observeUntil, a step only says how long is left: no push, no event', async () => {
      const eventsBefore = (await eventRows(s.id)).length;
      const result = await step(s);
      lastWait = result.waitMs;
      expect(result.done).toBe(false);
      expect(result.waitMs).toBeGreaterThan(0);
      expect(result.waitMs).toBeLessThanOrEqual(1000);
      expect(drain()).toEqual([]);
      expect(await eventRows(s.id)).toHaveLength(eventsBefore);
      expect((await row(s.id)).strategy_state.stage).toBe('OBSERVE');
    });

    it('after observeUntil, records HEALTH_CHECKED with its report and starts phase 2', async () => {
      await sleep(lastWait + 30);
      const result = await step(s);
      expect(result).toEqual({ done: false, waitMs: 0 });
      const evs = await eventRows(s.id);
      const check = evs.find((e) => e.type === 'HEALTH_CHECKED')!;
      expect(check.phase).toBe(1);
      expect(check.message).toBe('phase 1 of 3: healthy: 1 updated instance reporting');
      expect(check.health).toMatchObject({ healthy: true, reasons: [], insufficientData: false });
      expect(check.health!.current).toMatchObject({ errorRate: 0.01, latencyP99Ms: 100, instances: 1 });
      expect(check.health!.baseline).toEqual(s.baseline);
      expect(evs.at(-1)).toMatchObject({ type: 'PHASE_STARTED', phase: 2 });
      const r = await row(s.id);
      expect(r.phase).toBe(2);
      expect(r.strategy_state).toMatchObject({ stage: 'ROLLOUT', observeUntil: null });
    });

    it('the next step pushes the phase-2 targets only, never the phase-1 ones again', async () => {
      await step(s);
      const pushes = drain();
      everyPush.push(...pushes);
      expect(pushedIds(pushes)).toEqual(s.phases[1]);
      expect(pushes.every((p) => p.update.version === 2)).toBe(true);
    });

    it('after the last phase: COMPLETED, version 2 active, every target applied once, lease released', async () => {
      await ack(s, s.phases[1]!, 2);
      await beat(s.phases[1]!, HEALTHY);
      await step(s); // OBSERVE
      await waitObservation(s.id);
      await step(s); // judged: phase 3
      await step(s); // pushes phase 3
      const pushes = drain();
      everyPush.push(...pushes);
      expect(pushedIds(pushes)).toEqual([...s.phases[2]!].sort());
      await ack(s, s.phases[2]!, 2);
      await beat(s.phases[2]!, HEALTHY);
      await step(s); // OBSERVE
      await waitObservation(s.id);
      const result = await step(s);
      expect(result.done).toBe(true);

      const r = await row(s.id);
      expect(r.status).toBe('COMPLETED');
      expect(r.finished_at).not.toBeNull();
      expect(r.lease_owner).toBeNull();
      expect(await activeVersion(s)).toBe(2);
      expect((await targets(s.id)).every((t) => t.state === 'APPLIED' && t.version === 2)).toBe(true);
      // Each instance was pushed the new version exactly once over the whole deployment.
      expect(pushedIds(everyPush)).toEqual([...s.phases.flat()].sort());
      const evs = await eventRows(s.id);
      expect(evs.filter((e) => e.type === 'HEALTH_CHECKED').map((e) => e.phase)).toEqual([1, 2, 3]);
      expect(evs.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2, 3]);
      expect(evs.at(-1)).toMatchObject({ type: 'COMPLETED', status: 'COMPLETED', message: 'version 2 is active' });
    });

    it('published every persisted event on the deployment topic, in order, with its health', async () => {
      const persisted = await eventRows(s.id);
      expect(live.map((e) => e.type)).toEqual(persisted.map((e) => e.type));
      const liveCheck = live.find((e) => e.type === 'HEALTH_CHECKED')!;
      expect(liveCheck.health?.healthy).toBe(true);
      expect(liveCheck.health?.checkedAt).toBeInstanceOf(Date);
    });

    it('a finished deployment has no lease: stepping it again is refused', async () => {
      await expect(step(s)).rejects.toBeInstanceOf(LeaseLostError);
      expect(drain()).toEqual([]);
    });
  });

  describe('a canary that degrades in phase 2 (autoRollback)', () => {
    let s: Scenario;

    beforeAll(async () => {
      s = await scenario({ phaseSizes: [1, 1, 1], bakeSeconds: 0 });
      await runPhase(s, 1);
      await runPhase(s, 2, DEGRADED);
    });

    it('judges the phase degraded and starts the rollback, recording the verdict and the reason', async () => {
      const r = await row(s.id);
      expect(r.status).toBe('ROLLING_BACK');
      // Phases 1 (healthy) and 2 (degraded) are judged together: every instance that runs the new version.
      expect(r.rollback_reason).toBe(
        'phase 2 of 3: health degraded: error rate: canary median 30 % vs baseline 1 % (n=2/9), +29 points > limit 5: FAIL; p99 latency: canary median 480 ms vs baseline 100 ms (n=2/9), +380 % > limit 50 %: FAIL',
      );
      const evs = await eventRows(s.id);
      const checks = evs.filter((e) => e.type === 'HEALTH_CHECKED');
      expect(checks.map((e) => e.health?.healthy)).toEqual([true, false]);
      expect(checks[1]!.health!.reasons).toHaveLength(2);
      expect(evs.at(-1)).toMatchObject({ type: 'ROLLBACK_STARTED', status: 'ROLLING_BACK', phase: 2 });
      expect(evs.at(-1)!.health).toMatchObject({ healthy: false });
      expect(drain()).toEqual([]);
    });

    it('pushes the previous version to the targets that got the new one, not to those never pushed', async () => {
      const result = await step(s);
      expect(result.done).toBe(false);
      const pushes = drain();
      expect(pushes).toHaveLength(1);
      expect(pushes[0]!.update).toMatchObject({ version: 1, hash: 'h1', data: { v: 1 }, deploymentId: s.id });
      expect(pushedIds(pushes)).toEqual([...s.phases[0]!, ...s.phases[1]!].sort());
      expect(await stateOf(s.id, s.phases[2]![0]!)).toMatchObject({ state: 'PENDING', version: null });
      expect((await row(s.id)).strategy_state.rollbackPushed).toBe(true);
      expect(await activeVersion(s)).toBe(1);
    });

    it('ignores a late ack of the new version from an instance that was sent the previous one', async () => {
      const late = s.phases[0]![0]!;
      await ack(s, [late], 2);
      expect(await stateOf(s.id, late)).toMatchObject({ state: 'PUSHED', version: 1 });
      const result = await step(s);
      expect(result.done).toBe(false);
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
      expect(drain()).toEqual([]);
    });

    it('ends ROLLED_BACK once the previous version is acked: those targets ROLLED_BACK, the rest PENDING', async () => {
      await ack(s, [...s.phases[0]!, ...s.phases[1]!], 1);
      const result = await step(s);
      expect(result.done).toBe(true);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLED_BACK');
      expect(r.lease_owner).toBeNull();
      const t = await targets(s.id);
      expect(t.filter((x) => x.state === 'ROLLED_BACK').map((x) => x.instance_id).sort()).toEqual([...s.phases[0]!, ...s.phases[1]!].sort());
      expect(t.filter((x) => x.state === 'PENDING').map((x) => x.instance_id)).toEqual(s.phases[2]);
      const applied = await h.graph.tdb.query<{ instance_id: string; applied_version: number }>(
        'select instance_id, applied_version from instance_config where profile_id = $1 order by instance_id',
        [s.profileId],
      );
      expect(applied.map((a) => a.applied_version)).toEqual([1, 1]);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last.type).toBe('ROLLED_BACK');
      expect(last.message).toMatch(/^version 1 restored on 2 instances: phase 2 of 3: health degraded/);
      expect(drain()).toEqual([]);
    });
  });
});
