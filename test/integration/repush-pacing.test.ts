import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, stepHarness } from '../support/orchestrator-steps.js';

/** A running deployment looks for unanswered pushes at most once a second (orchestrator.ts). */
const NEXT_CHECK_MS = 1050;

/** Re-sending unanswered pushes, step by step on a real PostgreSQL: a backoff per target and a budget per replica (src/domain/repush-pacing.ts). */
describe('orchestrator: re-sends of unanswered pushes are paced', () => {
  const h = stepHarness();
  const { scenario, step, drain, pushedIds } = h;

  beforeAll(() => h.start({ HOTSWAP_REPUSH_PER_SECOND: '3' }));
  afterAll(() => h.stop());

  /** Moves the last send of every target of `id` to `ms` ago. */
  const sentAgo = (id: string, ms: number) =>
    h.graph.tdb.query(`update deployment_target set pushed_at = now() - $2 * interval '1 millisecond' where deployment_id = $1`, [id, ms]);
  const sends = async (id: string) =>
    (await h.graph.tdb.query<{ sends: number }>('select sends from deployment_target where deployment_id = $1 and state = $2 order by instance_id', [id, 'PUSHED'])).map((r) => r.sends);

  it('each send of a push doubles the wait before the next: 5 s after the first, 10 s after the second', async () => {
    const s = await scenario({ phaseSizes: [1, 1] });
    await step(s);
    expect(pushedIds(drain())).toEqual(s.phases[0]);
    expect(await sends(s.id)).toEqual([1]);

    await sentAgo(s.id, 3000);
    await sleep(NEXT_CHECK_MS);
    await step(s);
    expect(drain()).toEqual([]); // ~4 s after the first send

    await sentAgo(s.id, 5000);
    await sleep(NEXT_CHECK_MS);
    await step(s);
    expect(pushedIds(drain())).toEqual(s.phases[0]);
    expect(await sends(s.id)).toEqual([2]);

    await sentAgo(s.id, 8000);
    await sleep(NEXT_CHECK_MS);
    await step(s);
    expect(drain()).toEqual([]); // ~9 s after the second send: not yet

    await sentAgo(s.id, 9500);
    await sleep(NEXT_CHECK_MS);
    await step(s);
    expect(pushedIds(drain())).toEqual(s.phases[0]);
    expect(await sends(s.id)).toEqual([3]);
  });

  it('a replica re-sends at most its budget per second (3 here), longest waiting first, the rest on later checks', async () => {
    const s = await scenario({ phaseSizes: [5, 1] });
    await step(s);
    const first = pushedIds(drain());
    expect(first).toHaveLength(5);

    await sleep(NEXT_CHECK_MS); // the budget refills
    await sentAgo(s.id, 6000);
    await step(s);
    const resent = pushedIds(drain());
    expect(resent).toEqual(first.slice(0, 3));
    expect(await sends(s.id)).toEqual([2, 2, 2, 1, 1]);

    await sleep(NEXT_CHECK_MS);
    await step(s);
    expect(pushedIds(drain())).toEqual(first.slice(3));
    expect(await sends(s.id)).toEqual([2, 2, 2, 2, 2]);
  });
});
