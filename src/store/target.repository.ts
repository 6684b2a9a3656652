import type { EntityManager } from '@mikro-orm/postgresql';
import type { TargetState } from '../domain/deployment.js';
import { MAX_BACKOFF_DOUBLINGS, repushDelayMs } from '../domain/repush-pacing.js';
import { boundQuery, pgArray } from './bound-query.js';

type Row = Record<string, unknown>;

/** The send counts 1 … MAX_BACKOFF_DOUBLINGS + 1: awaitingAck passes the wait after each (repushDelayMs, the rule's one owner) as an array indexed by `sends`. */
const SEND_COUNTS = Array.from({ length: MAX_BACKOFF_DOUBLINGS + 1 }, (_, i) => i + 1);

/** The first pushes of a new deployment, written with its targets. */
export interface FirstPush {
  profileId: string;
  instanceIds: readonly string[];
  version: number;
  ackTimeoutSeconds: number;
}

/**
 * Records that a deployment pushed a version of a profile to each instance of
 * `source` (a relation with an instance_id column); parameters: profile id,
 * version, version, deployment id.
 */
const recordSent = (source: string): string => `
  insert into instance_config (instance_id, profile_id, sent_version, sent_versions, sent_deployment_id, sent_at)
  select instance_id, ?::uuid, ?::int, array[?::int], ?::uuid, now() from ${source}
  on conflict (instance_id, profile_id) do update set
    sent_version = excluded.sent_version,
    sent_deployment_id = excluded.sent_deployment_id,
    sent_at = excluded.sent_at,
    sent_versions = case when excluded.sent_version = any(instance_config.sent_versions)
      then instance_config.sent_versions else instance_config.sent_versions || excluded.sent_version end`;

/**
 * An instance's assignment that a send outside any deployment may replace: none
 * came from a deployment, or the deployment it came from has finished (a
 * running deployment's push is never overridden). A non-target that was between
 * two connections when a deployment completed is thus assigned the new active
 * version, and gets it on subscribe.
 */
const OVERRIDABLE = `(ic.sent_deployment_id is null
  or not exists (select 1 from deployment d where d.id = ic.sent_deployment_id and d.finished_at is null))`;

/** Set-at-a-time writes to a deployment's targets, and what each instance was sent. */
export class TargetRepository {
  constructor(private readonly em: EntityManager) {}

  /** Up to `limit` not-yet-pushed targets of a phase. */
  async pendingInPhase(deploymentId: string, phase: number, limit: number): Promise<string[]> {
    const rows = await this.em.execute<Row[]>(
      `select instance_id from deployment_target where deployment_id = ? and phase = ? and state = 'PENDING'
       order by instance_id limit ?`,
      [deploymentId, phase, limit],
    );
    return rows.map((r) => String(r.instance_id));
  }

  /**
   * Up to `limit` (null: all) targets not answered yet whose last send is older than
   * repushDelayMs(sends, olderThanMs) (doubled per earlier send), longest waiting
   * first, with the version they were sent.
   */
  async awaitingAck(deploymentId: string, olderThanMs: number, limit: number | null): Promise<Array<{ instanceId: string; version: number }>> {
    const rows = await this.em.execute<Row[]>(
      `select instance_id, version from deployment_target
       where deployment_id = ? and state = 'PUSHED' and version is not null
         and pushed_at <= now() - (?::int[])[least(greatest(sends, 1), ?)] * interval '1 millisecond'
       order by pushed_at, instance_id limit ?`,
      [deploymentId, pgArray(SEND_COUNTS.map((n) => repushDelayMs(n, olderThanMs))), SEND_COUNTS.length, limit],
    );
    return rows.map((r) => ({ instanceId: String(r.instance_id), version: Number(r.version) }));
  }

  /** Counts by state, for one phase or (null) the whole deployment. */
  async counts(deploymentId: string, phase: number | null): Promise<Partial<Record<TargetState, number>>> {
    const rows = await this.em.execute<Row[]>(
      `select state, count(*)::int as n from deployment_target where deployment_id = ? ${phase === null ? '' : 'and phase = ?'} group by state`,
      phase === null ? [deploymentId] : [deploymentId, phase],
    );
    return Object.fromEntries(rows.map((r) => [String(r.state), Number(r.n)]));
  }

  /**
   * Writes a new deployment's targets, PENDING except `firstPush.instanceIds`:
   * those are written PUSHED with an ack deadline and recorded as sent (like
   * markPushed), in the same statement (without a first push, that part
   * records nothing). The statement joins the deployment's row, which the
   * caller holds locked: there is no foreign key to check each target (see
   * docs/adr/0001-deployment-target-without-foreign-key.md); a deployment
   * that does not exist gets nothing written and an error.
   */
  async insert(deploymentId: string, targets: ReadonlyArray<{ instanceId: string; phase: number }>, firstPush: FirstPush | null): Promise<void> {
    if (targets.length === 0) return;
    const pushed = new Set(firstPush?.instanceIds);
    const [written] = await boundQuery<{ n: number }>(
      this.em,
      `with inserted as (
         insert into deployment_target (deployment_id, instance_id, phase, state, version, pushed_at, sends, deadline_at)
         select d.id, t.instance_id, t.phase, case when t.pushed then 'PUSHED' else 'PENDING' end,
           case when t.pushed then ?::int end, case when t.pushed then now() end, case when t.pushed then 1 else 0 end,
           case when t.pushed then now() + (?::int * interval '1 second') end
         from deployment d, unnest(?::text[], ?::int[], ?::bool[]) as t(instance_id, phase, pushed)
         where d.id = ?::uuid
         returning instance_id, state
       ),
       sent as (${recordSent("(select instance_id from inserted where state = 'PUSHED') as pushed")})
       select count(*)::int as n from inserted`,
      [
        firstPush?.version ?? null, firstPush?.ackTimeoutSeconds ?? null,
        pgArray(targets.map((t) => t.instanceId)), pgArray(targets.map((t) => t.phase)), pgArray(targets.map((t) => pushed.has(t.instanceId))),
        deploymentId, firstPush?.profileId ?? null, firstPush?.version ?? null, firstPush?.version ?? null, deploymentId,
      ],
    );
    // What the foreign key refused before: targets of a deployment that does not exist.
    if (written?.n !== targets.length) throw new Error(`deployment ${deploymentId} does not exist: its targets were not written`);
  }

  /**
   * Marks targets PUSHED with `version` and an ack deadline, and records the
   * version as sent to each instance (its assignment, which survives reconnects).
   */
  async markPushed(
    deploymentId: string,
    profileId: string,
    instanceIds: string[],
    version: number,
    ackTimeoutSeconds: number,
  ): Promise<void> {
    if (instanceIds.length === 0) return;
    await boundQuery(
      this.em,
      `with pushed as (
         update deployment_target t set state = 'PUSHED', version = ?::int, pushed_at = now(), sends = 1,
           deadline_at = now() + (?::int * interval '1 second'), acked_at = null, reload_ms = null, error = null
         from unnest(?::text[]) as i(id)
         where t.deployment_id = ? and t.instance_id = i.id
         returning t.instance_id
       )
       ${recordSent('pushed')}`,
      [version, ackTimeoutSeconds, pgArray(instanceIds), deploymentId, profileId, version, version, deploymentId],
    );
  }

  /**
   * Records a version sent to instances on subscribe, or to late joiners (no
   * deployment's push), in one statement. It never replaces a
   * deployment's push recorded meanwhile (a subscribe racing a push): it only
   * adds the version to those the instance may ack, and follows the active
   * version while no deployment has pushed to the instance.
   */
  async recordSentOnSubscribe(instanceIds: string[], profileId: string, version: number): Promise<void> {
    if (instanceIds.length === 0) return;
    await boundQuery(
      this.em,
      `insert into instance_config as ic (instance_id, profile_id, sent_version, sent_versions, sent_deployment_id, sent_at)
       select i, ?::uuid, ?::int, array[?::int], null, now() from unnest(?::text[]) as i
       on conflict (instance_id, profile_id) do update set
         sent_version = case when ${OVERRIDABLE} then excluded.sent_version else ic.sent_version end,
         sent_at = case when ${OVERRIDABLE} then excluded.sent_at else ic.sent_at end,
         sent_deployment_id = case when ${OVERRIDABLE} then null else ic.sent_deployment_id end,
         sent_versions = case when excluded.sent_version = any(ic.sent_versions)
           then ic.sent_versions else ic.sent_versions || excluded.sent_version end`,
      [profileId, version, version, pgArray(instanceIds)],
    );
  }

  /** Renews the send time of targets pushed again and counts the send (their ack deadline stays). */
  async markSent(deploymentId: string, instanceIds: string[]): Promise<void> {
    if (instanceIds.length === 0) return;
    await boundQuery(
      this.em,
      `update deployment_target t set pushed_at = now(), sends = least(t.sends + 1, 32767)
       from unnest(?::text[]) as i(id)
       where t.deployment_id = ? and t.instance_id = i.id`,
      [pgArray(instanceIds), deploymentId],
    );
  }

  /** PUSHED targets past their ack deadline (by the database's clock). */
  async expired(deploymentId: string): Promise<string[]> {
    const rows = await this.em.execute<Row[]>(
      `select instance_id from deployment_target where deployment_id = ? and state = 'PUSHED' and deadline_at <= now() order by instance_id`,
      [deploymentId],
    );
    return rows.map((r) => String(r.instance_id));
  }

  /** Ends expired pushes as TIMED_OUT or LEFT with their reasons; a target answered meanwhile keeps its answer. */
  async endExpired(deploymentId: string, ended: ReadonlyArray<{ instanceId: string; state: TargetState; error: string }>): Promise<void> {
    if (ended.length === 0) return;
    await boundQuery(
      this.em,
      `update deployment_target t set state = e.state, error = e.error
       from unnest(?::text[], ?::text[], ?::text[]) as e(instance_id, state, error)
       where t.deployment_id = ? and t.instance_id = e.instance_id and t.state = 'PUSHED'`,
      [pgArray(ended.map((e) => e.instanceId)), pgArray(ended.map((e) => e.state)), pgArray(ended.map((e) => e.error)), deploymentId],
    );
  }

  /** Moves the ack deadline of pushes still unanswered (an instance given time to reconnect). */
  async extendDeadlines(deploymentId: string, until: ReadonlyArray<{ instanceId: string; at: Date }>): Promise<void> {
    if (until.length === 0) return;
    await boundQuery(
      this.em,
      `update deployment_target t set deadline_at = e.at
       from unnest(?::text[], ?::timestamptz[]) as e(instance_id, at)
       where t.deployment_id = ? and t.instance_id = e.instance_id and t.state = 'PUSHED'`,
      [pgArray(until.map((u) => u.instanceId)), pgArray(until.map((u) => u.at.toISOString())), deploymentId],
    );
  }

  /** Milliseconds until the earliest ack deadline of the deployment, or null when nothing awaits an ack. */
  async msToNextDeadline(deploymentId: string): Promise<number | null> {
    const rows = await this.em.execute<Row[]>(
      `select greatest(0, extract(epoch from min(deadline_at) - now()) * 1000)::int as ms
       from deployment_target where deployment_id = ? and state = 'PUSHED'`,
      [deploymentId],
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? null : Number(ms);
  }

  /** Targets that were sent `version` (answered or not): those a rollback gives the previous version back. */
  async sentVersion(deploymentId: string, version: number): Promise<string[]> {
    const rows = await this.em.execute<Row[]>(
      `select instance_id from deployment_target
       where deployment_id = ? and version = ? and state in ('PUSHED', 'APPLIED', 'FAILED', 'TIMED_OUT') order by instance_id`,
      [deploymentId, version],
    );
    return rows.map((r) => String(r.instance_id));
  }

  /** Per-instance reasons of the targets that did not apply, for the failure message. */
  async failures(deploymentId: string, limit: number): Promise<Array<{ instanceId: string; state: TargetState; error: string | null }>> {
    const rows = await this.em.execute<Row[]>(
      `select instance_id, state, error from deployment_target
       where deployment_id = ? and state in ('FAILED', 'TIMED_OUT') order by instance_id limit ?`,
      [deploymentId, limit],
    );
    return rows.map((r) => ({ instanceId: String(r.instance_id), state: r.state as TargetState, error: (r.error as string | null) ?? null }));
  }
}
