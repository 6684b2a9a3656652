import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/orchestrator/orchestrator.js';
import { HEALTHY, LEASE_MS, sleep, stepHarness } from '../support/orchestrator-steps.js';

/** The orchestrator driven step by step, as a runner would, on a real PostgreSQL (see test/support/orchestrator-steps.ts). */
describe('orchestrator: the lease and its takeover step by step', () => {
  const h = stepHarness();
  const { scenario, lease, step, drain, pushedIds, ack, beat, row, targets, eventRows, waitObservation, runPhase } = h;

  beforeAll(() => h.start());
  afterAll(() => h.stop());

  describe('the lease', () => {
    it('a step after another owner claimed the expired lease throws LeaseLostError and changes nothing', async () => {
      const s = await scenario({ phaseSizes: [1, 1] });
      await step(s);
      drain();
      await h.graph.tdb.query(`update deployment set lease_expires_at = now() - interval '1 second' where id = $1`, [s.id]);
      await lease(s.id, `${s.owner}-successor`);
      const before = await row(s.id);
      await expect(step(s)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(h.graph.orchestrator.checkHealth(s.id, s.owner)).rejects.toBeInstanceOf(LeaseLostError);
      expect(await h.graph.db.transaction((r) => r.deployments.renewLease(s.id, s.owner, LEASE_MS))).toBe(false);
      expect(drain()).toEqual([]);
      expect(await row(s.id)).toEqual(before);
    });

    it('a lease that ran out unclaimed (a renewal late under load) is still its owner\'s: it renews and steps on', async () => {
      const s = await scenario({ phaseSizes: [1, 1] });
      await step(s);
      drain();
      await h.graph.tdb.query(`update deployment set lease_expires_at = now() - interval '1 second' where id = $1`, [s.id]);
      expect(await h.graph.db.transaction((r) => r.deployments.renewLease(s.id, s.owner, LEASE_MS))).toBe(true);
      const [renewed] = await h.graph.tdb.query<{ lease_owner: string; live: boolean }>(
        'select lease_owner, lease_expires_at > now() as live from deployment where id = $1',
        [s.id],
      );
      expect(renewed).toEqual({ lease_owner: s.owner, live: true });
      await h.graph.tdb.query(`update deployment set lease_expires_at = now() - interval '1 second' where id = $1`, [s.id]);
      await expect(step(s)).resolves.toMatchObject({ done: false });
    });

    it('another owner can neither step, resume, check nor claim a deployment whose lease is held', async () => {
      const s = await scenario({ phaseSizes: [1, 1] });
      await expect(step(s, 'intruder')).rejects.toThrow(LeaseLostError);
      await expect(h.graph.orchestrator.resume(s.id, 'intruder')).rejects.toThrow(/lost the lease/);
      await expect(h.graph.orchestrator.checkHealth(s.id, 'intruder')).rejects.toThrow(LeaseLostError);
      const claimed = await h.graph.db.transaction((r) => r.deployments.claim('intruder', LEASE_MS, 100));
      expect(claimed).not.toContain(s.id);
      expect(drain()).toEqual([]);
      expect(await row(s.id)).toMatchObject({ status: 'PENDING', phase: 0, lease_owner: s.owner });
    });
  });

  describe('takeover by another owner', () => {
    it('continues from the persisted phase and stage with the baseline captured at the start', async () => {
      const s = await scenario({ phaseSizes: [1, 1, 1], bakeSeconds: 1 });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await beat(s.phases[0]!, HEALTHY);
      await step(s); // phase 1 baking
      const persisted = await row(s.id);
      expect(persisted.strategy_state.stage).toBe('OBSERVE');

      // The first owner stops renewing (it died): its lease runs out and another owner claims.
      await h.graph.tdb.query(`update deployment set lease_expires_at = now() - interval '1 millisecond' where id = $1`, [s.id]);
      const next = `${s.owner}-successor`;
      await lease(s.id, next);
      await expect(step(s)).rejects.toBeInstanceOf(LeaseLostError);
      await h.graph.orchestrator.resume(s.id, next);
      expect(drain()).toEqual([]); // nothing awaited an ack

      // The new owner first waits out the rest of the same bake, then judges phase 1 with the original baseline.
      const r0 = await step(s, next);
      if (r0.waitMs > 0) {
        expect((await row(s.id)).strategy_state.observeUntil).toBe(persisted.strategy_state.observeUntil);
        await waitObservation(s.id);
        await step(s, next);
      }
      const evs = await eventRows(s.id);
      expect(evs.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2]);
      expect(evs.find((e) => e.type === 'HEALTH_CHECKED')!.health!.baseline).toEqual(s.baseline);
      expect((await row(s.id)).strategy_state.baseline).toEqual(s.baseline);
      await step(s, next);
      expect(pushedIds(drain())).toEqual(s.phases[1]);
      expect((await row(s.id)).lease_owner).toBe(next);
    });

    it('after a short lease ran out, resume re-sends only the pushes awaiting an ack, never to instances that applied', async () => {
      const s = await scenario({ phaseSizes: [1, 2] });
      await runPhase(s, 1);
      await step(s); // pushes phase 2
      expect(pushedIds(drain())).toEqual([...s.phases[1]!].sort());
      const [acked, silent] = [...s.phases[1]!].sort() as [string, string];
      await ack(s, [acked], 2);

      // The owner's lease is short and not renewed; a successor claims once it has run out.
      await h.graph.db.transaction((r) => r.deployments.renewLease(s.id, s.owner, 300));
      await sleep(400);
      const next = `${s.owner}-successor`;
      await lease(s.id, next);
      await h.graph.orchestrator.resume(s.id, next);
      const resent = drain();
      expect(resent).toHaveLength(1);
      expect(resent[0]!.targets).toEqual([silent]);
      expect(resent[0]!.update).toMatchObject({ version: 2, deploymentId: s.id });

      await ack(s, [silent], 2);
      await beat([silent], HEALTHY);
      const result = await step(s, next);
      expect(result.done).toBe(true);
      expect(drain()).toEqual([]);
      expect((await row(s.id)).status).toBe('COMPLETED');
      expect((await targets(s.id)).map((t) => t.state)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    });
  });
});
