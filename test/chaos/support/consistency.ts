import { expect } from 'vitest';
import { FINISHED_STATUSES } from '../../../src/domain/lifecycle/status.js';
import { pollUntil } from '../../support/wait.js';
import type { QueryFn } from './cluster.js';

/**
 * The consistency check every chaos test ends with, once the fault is over:
 *
 * 1. every deployment reaches a terminal status (or PAUSED, which an operator
 *    resumes) within a bound: nothing is left PENDING, IN_PROGRESS or
 *    ROLLING_BACK without a runner; a FAILED or ROLLED_BACK one says why; a
 *    COMPLETED one has every target APPLIED;
 * 2. every profile's versions are exactly 1..last_version (no duplicate, no
 *    gap, no version row without last_version moving), and its active version
 *    is what its last deployment left (its version if COMPLETED, its previous
 *    version otherwise);
 * 3. no instance applied a version it was never sent;
 * 4. every live instance runs, by the database (instance_config.applied_version)
 *    and by its own account, the version assigned to it: the one a deployment
 *    last pushed to it, else the profile's active version (color version for
 *    blue-green) — the rule configUpdates sends on subscribe; and the registry
 *    lists it.
 */

export interface LiveInstance {
  id: string;
  service: string;
  environment?: string;
  color?: 'BLUE' | 'GREEN' | null;
  /** The version the instance itself says it runs of `profile` (null: none). */
  version?: (profile: string) => number | null;
}

export interface ConsistencyOptions {
  query: QueryFn;
  /** The instances still running (read when the check runs). */
  instances: LiveInstance[] | (() => LiveInstance[]);
  /** Ids the registry lists for a service (through the API); when given, every live instance must be listed. */
  registry?: (service: string) => Promise<string[]>;
  /** How long deployments and instances may take to settle. @default 30 s */
  timeoutMs?: number;
}

export interface ConsistencyReport {
  deployments: Array<{ id: string; status: string; reason: string | null }>;
  profiles: number;
  versions: number;
  instances: number;
  /** How long the check waited for everything to settle. */
  settledMs: number;
}

const FINISHED = new Set<string>(FINISHED_STATUSES);
const SETTLED = new Set([...FINISHED, 'PAUSED']);

interface DeploymentRow {
  id: string;
  profile_id: string;
  status: string;
  version: number;
  previous_version: number | null;
  failure_reason: string | null;
  rollback_reason: string | null;
  finished_at: Date | null;
  lease_owner: string | null;
  phase: number;
}

interface Assignment {
  profile: string;
  assigned: number;
  sent: number | null;
  applied: number | null;
}

export async function assertConsistent(o: ConsistencyOptions): Promise<ConsistencyReport> {
  const began = Date.now();
  const timeoutMs = o.timeoutMs ?? 30_000;
  const q = o.query;

  // 1. Deployments settle.
  const deployments = await pollUntil(
    () =>
      q<DeploymentRow>(
        `select id, profile_id, status, version, previous_version, failure_reason, rollback_reason, finished_at, lease_owner, phase
         from deployment order by created_at`,
      ),
    (rows) => rows.every((d) => SETTLED.has(d.status)),
    { timeoutMs, intervalMs: 200, what: 'every deployment to reach a terminal (or PAUSED) status' },
  );
  for (const d of deployments) {
    if (d.status === 'FAILED') expect(d.failure_reason, `deployment ${d.id} FAILED without a reason`).toMatch(/\S/);
    if (d.status === 'ROLLED_BACK') expect(d.rollback_reason, `deployment ${d.id} ROLLED_BACK without a reason`).toMatch(/\S/);
    if (FINISHED.has(d.status)) expect(d.finished_at, `deployment ${d.id} is ${d.status} without finished_at`).not.toBeNull();
    if (d.status === 'COMPLETED') {
      const open = await q<{ instance_id: string; state: string }>(
        `select instance_id, state from deployment_target where deployment_id = $1 and state <> 'APPLIED'`,
        [d.id],
      );
      expect(open, `targets of COMPLETED deployment ${d.id} that did not apply`).toEqual([]);
    }
  }

  // 2. Versions are 1..n per profile, and the active version is what the last deployment left.
  const profiles = await q<{ id: string; name: string; last_version: number; active_version: number | null; versions: number[] | null }>(
    `select p.id, p.name, p.last_version, p.active_version,
            array_agg(v.version order by v.version) filter (where v.version is not null) as versions
     from config_profile p left join config_version v on v.profile_id = p.id
     group by p.id order by p.name`,
  );
  let versionCount = 0;
  for (const p of profiles) {
    const versions = p.versions ?? [];
    versionCount += versions.length;
    expect(versions, `versions of profile ${p.name} (last_version ${p.last_version})`).toEqual(
      Array.from({ length: p.last_version }, (_, i) => i + 1),
    );
    const last = deployments.filter((d) => d.profile_id === p.id && FINISHED.has(d.status)).at(-1);
    if (last && deployments.filter((d) => d.profile_id === p.id).at(-1) === last) {
      const expected = last.status === 'COMPLETED' ? last.version : last.previous_version;
      expect(p.active_version, `active version of ${p.name} after its last deployment (${last.status})`).toBe(expected);
    }
  }

  // 3. Nothing applied that was not sent.
  const strays = await q<{ instance_id: string; applied_version: number; sent_versions: number[] }>(
    'select instance_id, applied_version, sent_versions from instance_config where applied_version is not null and not (applied_version = any(sent_versions))',
  );
  expect(strays, 'instances that applied a version never sent to them').toEqual([]);

  // 4. Every live instance runs what it is assigned.
  const live = typeof o.instances === 'function' ? o.instances() : o.instances;
  const assignments = async (i: LiveInstance) =>
    q<Assignment>(
      `select p.name as profile, v.version as assigned, ic.sent_version as sent, ic.applied_version as applied
       from config_profile p
       left join instance_config ic on ic.profile_id = p.id and ic.instance_id = $1
       left join color_version cv on cv.profile_id = p.id and cv.color = $2
       join config_version v on v.profile_id = p.id
         and v.version = case when ic.sent_deployment_id is not null then ic.sent_version else coalesce(cv.version, p.active_version) end
       where p.service = $3 and p.environment = $4
       order by p.name`,
      [i.id, i.color ?? null, i.service, i.environment ?? 'STAGING'],
    );
  const view = async () =>
    Promise.all(
      live.map(async (i) => ({
        id: i.id,
        rows: (await assignments(i)).map((a) => ({ ...a, own: i.version ? i.version(a.profile) : a.assigned })),
      })),
    );
  const settled = (v: Awaited<ReturnType<typeof view>>) =>
    v.every((i) => i.rows.every((a) => a.applied === a.assigned && a.sent === a.assigned && a.own === a.assigned));
  const final = await pollUntil(view, settled, { timeoutMs, intervalMs: 200, what: 'every live instance to run its assigned version' }).catch(
    async () => view(),
  );
  for (const i of final) {
    for (const a of i.rows) {
      expect({ instance: i.id, profile: a.profile, applied: a.applied, sent: a.sent, runs: a.own }).toEqual({
        instance: i.id,
        profile: a.profile,
        applied: a.assigned,
        sent: a.assigned,
        runs: a.assigned,
      });
    }
  }
  if (o.registry) {
    const services = [...new Set(live.map((i) => i.service))];
    const listed = new Set((await Promise.all(services.map((s) => o.registry!(s)))).flat());
    expect(live.map((i) => i.id).filter((id) => !listed.has(id)), 'live instances the registry does not list').toEqual([]);
  }

  return {
    deployments: deployments.map((d) => ({ id: d.id, status: d.status, reason: d.failure_reason ?? d.rollback_reason })),
    profiles: profiles.length,
    versions: versionCount,
    instances: live.length,
    settledMs: Date.now() - began,
  };
}
