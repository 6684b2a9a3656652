import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AssignedSnapshots, type Subscriber } from '../../src/delivery/assigned-snapshots.js';
import { Environment } from '../../src/domain/enums.js';
import { startTestGraph, type StoreGraph } from '../support/graph.js';
import { seedProfile } from '../support/seed.js';

/** What subscribers are sent first, read in batches on a real PostgreSQL (src/delivery/assigned-snapshots.ts). */
describe('AssignedSnapshots', () => {
  let g: StoreGraph;
  beforeAll(async () => {
    g = await startTestGraph();
  });
  afterAll(() => g.stop());

  const subscriber = (id: string, service: string): Subscriber => ({ id, service, environment: Environment.STAGING, color: null });
  const recorded = (ids: string[]) =>
    g.tdb.query<{ instance_id: string; sent_version: number }>(
      'select instance_id, sent_version from instance_config where instance_id = any($1) order by instance_id',
      [ids],
    );

  it('reads subscribers that arrive together in one transaction, each with its configs, recorded as sent', async () => {
    await seedProfile(g.db, { name: 'snap-a', service: 'snap', versions: 2, activeVersion: 2 });
    await seedProfile(g.db, { name: 'snap-b', service: 'snap', versions: 1, activeVersion: 1 });
    await seedProfile(g.db, { name: 'snap-c', service: 'snap', versions: 1, activeVersion: null });
    const snapshots = new AssignedSnapshots(g.db);
    const transactions = vi.spyOn(g.db, 'transaction');
    const ids = Array.from({ length: 40 }, (_, i) => `snap-${String(i).padStart(2, '0')}`);
    // One instance twice at once (two subscriptions): read once, answered twice.
    const all = await Promise.all([...ids, ids[0]!].map((id) => snapshots.read(subscriber(id, 'snap'))));
    expect(transactions).toHaveBeenCalledTimes(1);
    transactions.mockRestore();
    for (const configs of all) {
      expect(configs).toEqual([
        { profileName: 'snap-a', version: 2, hash: 'h2', data: { v: 2 } },
        { profileName: 'snap-b', version: 1, hash: 'h1', data: { v: 1 } },
      ]);
    }
    expect((await recorded(ids)).filter((r) => r.sent_version === 2)).toHaveLength(40);
  });

  it('answers an instance of a service without profiles with nothing, and one of another service with its own', async () => {
    await seedProfile(g.db, { name: 'other-a', service: 'other', versions: 3, activeVersion: 3 });
    const snapshots = new AssignedSnapshots(g.db);
    const [none, other] = await Promise.all([snapshots.read(subscriber('lonely-1', 'lonely')), snapshots.read(subscriber('other-1', 'other'))]);
    expect(none).toEqual([]);
    expect(other).toEqual([{ profileName: 'other-a', version: 3, hash: 'h3', data: { v: 3 } }]);
  });

  it('a failing batch is read again one subscriber at a time: only the failing one is refused', async () => {
    await seedProfile(g.db, { name: 'fail-a', service: 'fail', versions: 1, activeVersion: 1 });
    const snapshots = new AssignedSnapshots(g.db);
    const real = g.db.transaction.bind(g.db);
    let calls = 0;
    const spy = vi.spyOn(g.db, 'transaction').mockImplementation((work) => {
      calls++;
      // The batch of three, then the first alone, fail; the other two alone succeed.
      return calls <= 2 ? Promise.reject(new Error('connection reset')) : real(work);
    });
    const results = await Promise.allSettled(['fail-1', 'fail-2', 'fail-3'].map((id) => snapshots.read(subscriber(id, 'fail'))));
    spy.mockRestore();
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect((await recorded(['fail-1', 'fail-2', 'fail-3'])).map((r) => r.instance_id)).toEqual(['fail-2', 'fail-3']);
  });
});
