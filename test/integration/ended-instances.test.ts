import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndReason } from '../../src/domain/instance-identity.js';
import type { InstanceIdentityService } from '../../src/services/instance-identity.service.js';
import { startTestGraph, type StoreGraph } from '../support/graph.js';
import type { TestDatabase } from '../support/database.js';

/** The ended-instance records on real PostgreSQL: written, taken back, and forgotten once no token can name them. */
describe('ended instance records', () => {
  let g: StoreGraph;
  let db: TestDatabase;
  let identities: InstanceIdentityService;
  const ids = (n: number) => `a0000000-0000-4000-8000-00000000000${n}`;
  const rows = () => db.query<{ instance_id: string; reason: string }>('select instance_id, reason from ended_instance order by instance_id');

  beforeAll(async () => {
    // Instance tokens of 60 s: an end is kept 60 s + the 600 s margin.
    g = await startTestGraph({ poolMax: 2, env: { HOTSWAP_INSTANCE_TOKEN_TTL_SECONDS: '60' } });
    ({ tdb: db, identities } = g);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('records ends, a later end of the same id taking its reason, and takes back only ends of the given reason', async () => {
    await identities.recordEnded([ids(1), ids(2)], EndReason.REAPED);
    await identities.recordEnded([ids(2)], EndReason.DEREGISTERED);
    await identities.recordEnded([], EndReason.REAPED);
    expect(await rows()).toEqual([{ instance_id: ids(1), reason: 'REAPED' }, { instance_id: ids(2), reason: 'DEREGISTERED' }]);
    await identities.withdrawEnded([ids(1), ids(2)], EndReason.REAPED);
    expect(await rows()).toEqual([{ instance_id: ids(2), reason: 'DEREGISTERED' }]);
    await db.query('delete from ended_instance');
  });

  it('forgetExpired deletes the ends older than the token lifetime and its margin, and keeps the others', async () => {
    await identities.recordEnded([ids(1), ids(2)], EndReason.DEREGISTERED);
    await identities.recordEnded([ids(3)], EndReason.REAPED);
    // 661 s ago is past 60 s + 600 s; 659 s ago is not.
    await db.query(`update ended_instance set ended_at = now() - interval '661 seconds' where instance_id = $1`, [ids(1)]);
    await db.query(`update ended_instance set ended_at = now() - interval '659 seconds' where instance_id = $1`, [ids(2)]);
    expect(await identities.forgetExpired()).toBe(1);
    expect((await rows()).map((r) => r.instance_id)).toEqual([ids(2), ids(3)]);
  });
});
