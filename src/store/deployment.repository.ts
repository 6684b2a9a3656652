import { type EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import type { DeploymentEventRecord, DeploymentRecord, StrategyState, TargetRecord } from '../domain/deployment-model.js';
import { EventType } from '../domain/deployment-model.js';
import type { DeploymentStatus } from '../domain/enums.js';
import { ConflictError } from '../domain/errors.js';
import { ACTIVE_STATUSES } from '../domain/lifecycle/status.js';
import { type Row, toEvent, toRecord, toTarget } from './deployment-rows.js';

/** A deployment to insert (its targets: TargetRepository.insert, in the same transaction). */
export type NewDeployment = Pick<
  DeploymentRecord,
  | 'id' | 'profileId' | 'service' | 'environment' | 'version' | 'previousVersion' | 'options' | 'healthPolicy'
  | 'ackTimeoutSeconds' | 'status' | 'phaseCount' | 'state' | 'startedBy' | 'traceContext'
> & {
  /** Created with its lease held by this owner (the replica that runs its first step at once); none: any replica claims it. */
  lease?: { owner: string; ms: number };
};

export interface DeploymentFilter {
  profileId?: string;
  status?: DeploymentStatus;
}

export interface DeploymentCursor {
  createdAt: Date;
  id: string;
}

export interface DeploymentPatch {
  status?: DeploymentStatus;
  phase?: number;
  failureReason?: string | null;
  rollbackReason?: string | null;
  state?: StrategyState;
  /** true: finished now (and the lease released); false: running again (a rollback after COMPLETED). */
  finished?: boolean;
}


/**
 * The active statuses as SQL text (domain/lifecycle/status.ts owns the list):
 * constants, not a parameter, so the planner can use the partial indexes on them.
 */
const ACTIVE = ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ');

const SELECT_DEPLOYMENT = `
  select d.*, p.name as profile_name,
    (select coalesce(json_object_agg(state, n), '{}') from
      (select state, count(*)::int as n from deployment_target t where t.deployment_id = d.id group by state) c) as target_counts
  from deployment d join config_profile p on p.id = d.profile_id`;

/** Deployments, their targets and events (SQL, for the set-at-a-time writes of large fleets). */
export class DeploymentRepository {
  constructor(private readonly em: EntityManager) {}

  /**
   * Inserts the deployment; CONFLICT when the profile already
   * has an active one. Call it with the profile row locked (lockByName), so the
   * check and the insert cannot interleave with another start.
   */
  async insert(d: NewDeployment, at: Date): Promise<void> {
    const running = await this.findActiveForProfile(d.profileId);
    if (running) throw activeConflict(running);
    try {
      await this.em.execute(
        `insert into deployment (id, profile_id, service, environment, version, previous_version, strategy, options,
           health_policy, ack_timeout_seconds, status, phase, phase_count, strategy_state, started_by, trace_context, created_at, updated_at,
           lease_owner, lease_expires_at)
         values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, 0, ?, ?::jsonb, ?, ?, ?, ?,
           ?, case when ?::text is null then null else now() + (?::int * interval '1 millisecond') end)`,
        [d.id, d.profileId, d.service, d.environment, d.version, d.previousVersion, d.options.strategy, JSON.stringify(d.options),
          JSON.stringify(d.healthPolicy), d.ackTimeoutSeconds, d.status, d.phaseCount, JSON.stringify(d.state), d.startedBy,
          d.traceContext, at, at, d.lease?.owner ?? null, d.lease?.owner ?? null, d.lease?.ms ?? null],
      );
    } catch (error) {
      // The partial unique index is the backstop should a caller not hold the profile lock.
      if (error instanceof UniqueConstraintViolationException) throw activeConflict(null);
      throw error;
    }
  }

  async findActiveForProfile(profileId: string): Promise<{ id: string; status: DeploymentStatus } | null> {
    const rows = await this.em.execute<Row[]>(
      `select id, status from deployment where profile_id = ? and status in (${ACTIVE})`,
      [profileId],
    );
    const row = rows[0];
    return row ? { id: String(row.id), status: row.status as DeploymentStatus } : null;
  }

  /** How many deployments are in each active status (metrics). */
  async countActiveByStatus(): Promise<Partial<Record<DeploymentStatus, number>>> {
    const rows = await this.em.execute<Row[]>(
      `select status, count(*)::int as n from deployment where status in (${ACTIVE}) group by status`,
    );
    return Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]));
  }

  async get(id: string): Promise<DeploymentRecord | null> {
    const rows = await this.em.execute<Row[]>(`${SELECT_DEPLOYMENT} where d.id = ?`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Locks the deployment row for this transaction if `owner` holds its lease.
   * The lease changes hands only by a claim, which writes the new owner: a
   * lease that ran out while its owner was busy (a late renewal under load)
   * and that no other replica claimed is still its owner's, so a single
   * replica never loses its own deployments to a slow event loop.
   */
  async lockLeased(id: string, owner: string): Promise<DeploymentRecord | null> {
    const locked = await this.em.execute<Row[]>(
      'select id from deployment where id = ? and lease_owner = ? for update',
      [id, owner],
    );
    return locked.length > 0 ? this.get(id) : null;
  }

  /** Newest first. */
  async list(filter: DeploymentFilter, after: DeploymentCursor | null, limit: number): Promise<DeploymentRecord[]> {
    const [where, params] = whereOf(filter);
    if (after) {
      where.push('(d.created_at, d.id) < (?, ?)');
      params.push(after.createdAt, after.id);
    }
    const rows = await this.em.execute<Row[]>(
      `${SELECT_DEPLOYMENT} ${where.length ? `where ${where.join(' and ')}` : ''} order by d.created_at desc, d.id desc limit ?`,
      [...params, limit],
    );
    return rows.map(toRecord);
  }

  async count(filter: DeploymentFilter): Promise<number> {
    const [where, params] = whereOf(filter);
    const rows = await this.em.execute<Row[]>(
      `select count(*)::int as n from deployment d ${where.length ? `where ${where.join(' and ')}` : ''}`,
      params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async update(id: string, patch: DeploymentPatch, at: Date): Promise<void> {
    const sets = ['updated_at = ?'];
    const params: unknown[] = [at];
    const columns: Array<[keyof DeploymentPatch, string]> = [
      ['status', 'status'], ['phase', 'phase'], ['failureReason', 'failure_reason'], ['rollbackReason', 'rollback_reason'],
    ];
    for (const [key, column] of columns) {
      if (patch[key] !== undefined) {
        sets.push(`${column} = ?`);
        params.push(patch[key]);
      }
    }
    if (patch.state !== undefined) {
      sets.push('strategy_state = ?::jsonb');
      params.push(JSON.stringify(patch.state));
    }
    if (patch.finished === true) {
      sets.push('finished_at = ?', 'lease_owner = null', 'lease_expires_at = null');
      params.push(at);
    } else if (patch.finished === false) {
      sets.push('finished_at = null');
    }
    await this.em.execute(`update deployment set ${sets.join(', ')} where id = ?`, [...params, id]);
  }

  async targets(id: string): Promise<TargetRecord[]> {
    const rows = await this.em.execute<Row[]>(
      'select * from deployment_target where deployment_id = ? order by phase, instance_id',
      [id],
    );
    return rows.map(toTarget);
  }

  async insertEvent(e: DeploymentEventRecord): Promise<void> {
    await this.em.execute(
      `insert into deployment_event (deployment_id, type, status, phase, progress, message, health, at)
       values (?, ?, ?, ?, ?, ?, ?::jsonb, ?)`,
      [e.deploymentId, e.type, e.status, e.phase, e.progress, e.message, e.health === null ? null : JSON.stringify(e.health), e.at],
    );
  }

  /** The last `last` health verdicts (HEALTH_CHECKED and HEALTH_INCONCLUSIVE events), oldest first. */
  async healthChecks(id: string, last: number): Promise<DeploymentEventRecord[]> {
    const rows = await this.em.execute<Row[]>(
      `select * from (select * from deployment_event where deployment_id = ? and type in (?, ?)
         order by id desc limit ?) e order by id`,
      [id, EventType.HEALTH_CHECKED, EventType.HEALTH_INCONCLUSIVE, last],
    );
    return rows.map(toEvent);
  }

  /** The deployment of the profile that finished last with COMPLETED, ROLLED_BACK or FAILED. */
  async lastFinished(profileId: string): Promise<{ id: string; status: DeploymentStatus } | null> {
    const rows = await this.em.execute<Row[]>(
      `select id, status from deployment where profile_id = ? and finished_at is not null
       order by finished_at desc, created_at desc limit 1`,
      [profileId],
    );
    return rows[0] ? { id: String(rows[0].id), status: rows[0].status as DeploymentStatus } : null;
  }

  /** Locks the deployment row for this transaction (waits for a running step: its boundary). */
  async lock(id: string): Promise<DeploymentRecord | null> {
    const locked = await this.em.execute<Row[]>('select id from deployment where id = ? for update', [id]);
    return locked.length > 0 ? this.get(id) : null;
  }

  /** The last `last` events, oldest first. */
  async events(id: string, last: number): Promise<DeploymentEventRecord[]> {
    const rows = await this.em.execute<Row[]>(
      'select * from (select * from deployment_event where deployment_id = ? order by id desc limit ?) e order by id',
      [id, last],
    );
    return rows.map(toEvent);
  }

  /** True when `profileId` has a deployment that targets or restores `version`. */
  async referencesVersion(profileId: string, version: number): Promise<boolean> {
    const rows = await this.em.execute<Row[]>(
      'select 1 from deployment where profile_id = ? and (version = ? or previous_version = ?) limit 1',
      [profileId, version, version],
    );
    return rows.length > 0;
  }

  /**
   * Takes up to `limit` runnable deployments whose lease is free or expired,
   * by compare-and-set on the database's clock. Returns their ids.
   */
  async claim(owner: string, leaseMs: number, limit: number): Promise<string[]> {
    const rows = await this.em.execute<Row[]>(
      `update deployment set lease_owner = ?, lease_expires_at = now() + (? * interval '1 millisecond')
       where id in (
         select id from deployment
         where status in (${ACTIVE})
           and (lease_owner is null or lease_expires_at < now() or lease_owner = ?)
         order by created_at limit ? for update skip locked)
       returning id`,
      [owner, leaseMs, owner, limit],
    );
    return rows.map((r) => String(r.id));
  }

  /** Extends the lease if `owner` still holds it (even past its expiry, when nobody claimed it: see lockLeased); false when another replica took it. */
  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.em.execute<Row[]>(
      `update deployment set lease_expires_at = now() + (? * interval '1 millisecond')
       where id = ? and lease_owner = ? returning id`,
      [leaseMs, id, owner],
    );
    return rows.length > 0;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await this.em.execute('update deployment set lease_owner = null, lease_expires_at = null where id = ? and lease_owner = ?', [id, owner]);
  }
}

function activeConflict(running: { id: string; status: DeploymentStatus } | null): ConflictError {
  return new ConflictError(
    `deployment ${running?.id ?? '(another)'} of this profile is still ${running?.status ?? 'active'}; ` +
      'wait for it to end, or roll it back, before starting another',
    { runningDeploymentId: running?.id },
  );
}

function whereOf(filter: DeploymentFilter): [string[], unknown[]] {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.profileId !== undefined) {
    where.push('d.profile_id = ?');
    params.push(filter.profileId);
  }
  if (filter.status !== undefined) {
    where.push('d.status = ?');
    params.push(filter.status);
  }
  return [where, params];
}
