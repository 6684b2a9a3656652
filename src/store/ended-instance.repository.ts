import type { EntityManager } from '@mikro-orm/postgresql';
import type { EndReason } from '../domain/instance-identity.js';
import { boundQuery, pgArray } from './bound-query.js';

/**
 * The ids of instances that ended (deregistered or reaped), which their
 * tokens may not restore; times are the database's clock.
 */
export class EndedInstanceRepository {
  constructor(private readonly em: EntityManager) {}

  /** Records the ids as ended now, for `reason`; an id already there takes the new reason and time. */
  async record(instanceIds: readonly string[], reason: EndReason): Promise<void> {
    if (instanceIds.length === 0) return;
    await boundQuery(
      this.em,
      `insert into ended_instance (instance_id, reason, ended_at) select i, ?, now() from unnest(?::text[]) as i
       on conflict (instance_id) do update set reason = excluded.reason, ended_at = excluded.ended_at`,
      [reason, pgArray(instanceIds)],
    );
  }

  /** Takes back the records of these ids written for `reason` (an instance that came back before it was reaped). */
  async withdraw(instanceIds: readonly string[], reason: EndReason): Promise<void> {
    if (instanceIds.length === 0) return;
    await boundQuery(this.em, 'delete from ended_instance where instance_id = any(?::text[]) and reason = ?', [pgArray(instanceIds), reason]);
  }

  async hasEnded(instanceId: string): Promise<boolean> {
    const rows = await boundQuery(this.em, 'select 1 from ended_instance where instance_id = ?', [instanceId]);
    return rows.length > 0;
  }

  /** Deletes the records older than `retentionSeconds`; returns how many. */
  async forgetOlderThan(retentionSeconds: number): Promise<number> {
    const rows = await boundQuery(
      this.em,
      'delete from ended_instance where ended_at < now() - make_interval(secs => ?) returning instance_id',
      [retentionSeconds],
    );
    return rows.length;
  }
}
