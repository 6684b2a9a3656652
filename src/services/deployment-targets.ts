import { type NormalizedDeployment, normalizeDeployment } from '../domain/deployment-input.js';
import type { Color } from '../domain/enums.js';
import { BadInputError, NotFoundError } from '../domain/errors.js';
import type { ProfileRecord } from '../domain/records.js';
import { strategyFor } from '../orchestrator/strategies/select-strategy.js';
import type { InstanceRegistry, LiveInstance } from '../registry/instance-registry.js';
import type { Database } from '../store/database.js';
import type { StartDeploymentInput } from './deployment.service.js';

/** What a deployment of `input` would start from: its options, the version checked, the live targets, the active color. */
export interface ResolvedStart {
  normalized: NormalizedDeployment;
  instances: LiveInstance[];
  activeColor: Color | null;
}

/**
 * Checks the input and reads what a deployment starts from, for starting one
 * and for previewing its plan alike.
 *
 * @throws BadInputError for invalid options or when no instance is connected
 * @throws NotFoundError when the version does not exist
 */
export async function resolveStart(db: Database, registry: InstanceRegistry, profile: ProfileRecord, input: StartDeploymentInput): Promise<ResolvedStart> {
  const normalized = normalizeDeployment(input);
  // Independent reads, at once: each is a round trip on the way to the first push. Their errors
  // keep the order of one after another: a missing version is NOT_FOUND even while Redis is down.
  const [version, live, color] = await Promise.allSettled([
    db.read((r) => r.versions.get(profile, input.version)),
    registry.liveInstances(profile.service, profile.environment),
    strategyFor(input.strategy).switchesTraffic ? db.read((r) => r.traffic.activeColor(profile.service, profile.environment)) : null,
  ]);
  if (!valueOf(version)) throw new NotFoundError(`version ${input.version} of profile "${profile.name}" not found`, { field: 'version' });
  const instances = valueOf(live);
  if (instances.length === 0) {
    throw new BadInputError(
      `no instance of service "${profile.service}" in ${profile.environment} is connected (registered, not STALE, and subscribed to configUpdates): there is nothing to deploy to`,
      { field: 'profileName' },
    );
  }
  return { normalized, instances, activeColor: valueOf(color) };
}

function valueOf<T>(settled: PromiseSettledResult<T>): T {
  if (settled.status === 'rejected') throw settled.reason;
  return settled.value;
}
