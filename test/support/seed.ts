import { randomUUID } from 'node:crypto';
import { INITIAL_STRATEGY_STATE } from '../../src/domain/deployment-model.js';
import { withPolicyDefaults } from '../../src/domain/health-policy.js';
import { type Color, DeploymentStatus, DeploymentStrategy, Environment } from '../../src/domain/enums.js';
import type { InstanceMetrics } from '../../src/domain/instance.js';
import type { ProfileRecord } from '../../src/domain/records.js';
import type { PlannedTargets } from '../../src/orchestrator/orchestrator.js';
import type { InstanceRegistry } from '../../src/registry/instance-registry.js';
import type { Database, Repositories } from '../../src/store/database.js';
import type { NewDeployment } from '../../src/store/deployment.repository.js';

/**
 * Fixtures for the service-level tests, written through the repositories and
 * the registry: no test depends on a table's columns.
 */

export interface SeedProfile {
  name: string;
  service: string;
  /** @default STAGING */
  environment?: Environment;
  /** Versions 1…n, version k holding `{ v: k }` with hash `h<k>`, by 't'. @default 1 */
  versions?: number;
  /** @default null: no version active */
  activeVersion?: number | null;
}

/** A profile with its versions, as publishing them would leave it. */
export function seedProfile(db: Database, p: SeedProfile): Promise<ProfileRecord> {
  return db.transaction(async (r) => {
    const created = await r.profiles.insert({ name: p.name, service: p.service, environment: p.environment ?? Environment.STAGING });
    for (let k = 0; k < (p.versions ?? 1); k++) {
      const version = await r.profiles.allocateVersionNumber(created.id);
      await r.versions.insert(created, { version, data: { v: version }, hash: `h${version}`, description: null, createdBy: 't' });
    }
    if (p.activeVersion !== undefined && p.activeVersion !== null) await r.profiles.setActiveVersion(created.id, p.activeVersion);
    return (await r.profiles.findByName(p.name))!;
  });
}

/**
 * A deployment of `profile` to insert: DIRECT, PENDING, one phase, acks within
 * 30 s, the default health policy with autoRollback, from the profile's active
 * version; `o` replaces any of it.
 */
export function newDeployment(profile: ProfileRecord, o: Partial<NewDeployment> & Pick<NewDeployment, 'version'>): NewDeployment {
  return {
    id: randomUUID(),
    profileId: profile.id,
    service: profile.service,
    environment: profile.environment,
    previousVersion: profile.activeVersion,
    options: { strategy: DeploymentStrategy.DIRECT, direct: { maxConcurrency: 10 } },
    healthPolicy: withPolicyDefaults({ maxErrorRateIncrease: null, maxLatencyIncreasePct: null, customThresholds: null, autoRollback: true }),
    ackTimeoutSeconds: 30,
    status: DeploymentStatus.PENDING,
    phaseCount: 1,
    state: INITIAL_STRATEGY_STATE,
    startedBy: 'test',
    traceContext: null,
    ...o,
  };
}

/** Inserts `d` with its planned targets in one transaction; `then` writes more in it (pushes, say). Returns the id. */
export async function seedDeployment(
  db: Database,
  d: NewDeployment,
  targets: PlannedTargets,
  then: (r: Repositories) => Promise<unknown> = async () => {},
): Promise<string> {
  await db.transaction(async (r) => {
    await r.deployments.insert(d, new Date());
    await r.targets.insert(d.id, targets, null);
    await then(r);
  });
  return d.id;
}

export interface SeedInstances {
  service: string;
  /** @default STAGING */
  environment?: Environment;
  /** @default now */
  registeredAt?: Date;
  color?: (id: string) => Color | null;
  /** Heartbeats with these metrics, this many ms ago each, oldest first (after every instance registered). */
  beats?: { agoMs: number[]; metrics: InstanceMetrics };
}

/** Registers the instances `ids` (host = id) and counts them connected, as subscribed instances are. */
export async function seedInstances(registry: InstanceRegistry, ids: readonly string[], o: SeedInstances): Promise<void> {
  for (const id of ids) {
    await registry.register({
      id,
      service: o.service,
      environment: o.environment ?? Environment.STAGING,
      host: id,
      color: o.color?.(id) ?? null,
      metadata: null,
      registeredAt: o.registeredAt ?? new Date(),
    });
    await registry.connected(id);
  }
  for (const ago of o.beats?.agoMs ?? []) {
    for (const id of ids) await registry.heartbeat(id, new Date(Date.now() - ago), o.beats!.metrics);
  }
}
