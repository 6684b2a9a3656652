import { randomUUID } from 'node:crypto';
import { authorize, type Principal } from '../domain/authorization.js';
import type { DeploymentEventRecord, DeploymentRecord, TargetRecord } from '../domain/deployment-model.js';
import { EventType } from '../domain/deployment-model.js';
import { normalizeDeployment, type StartDeploymentRequest } from '../domain/deployment-input.js';
import { DeploymentStatus, InstanceStatus } from '../domain/enums.js';
import { BadInputError, NotFoundError } from '../domain/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../domain/pagination.js';
import { type Connection, toConnection } from '../domain/records.js';
import type { DeploymentEventPublisher } from '../orchestrator/events.js';
import { strategyFor } from '../orchestrator/strategies/select-strategy.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { Topics, type WakeMessage } from '../pubsub/topics.js';
import type { InstanceRegistry } from '../registry/instance-registry.js';
import type { Database } from '../store/database.js';
import type { DeploymentCursor } from '../store/deployment.repository.js';
import { profileNotFound } from './profile.service.js';
import { isUuid } from '../domain/ids.js';

export interface StartDeploymentInput extends StartDeploymentRequest {
  profileName: string;
  version: number;
}

export interface DeploymentListArgs {
  profileName?: string | null;
  status?: DeploymentStatus | null;
  first?: number | null;
  after?: string | null;
}

/** Starts deployments and reads them; the orchestrator runs them. */
export class DeploymentService {
  constructor(
    private readonly db: Database,
    private readonly registry: InstanceRegistry,
    private readonly eventPublisher: DeploymentEventPublisher,
    private readonly pubsub: PubSub,
  ) {}

  async start(principal: Principal | undefined, input: StartDeploymentInput): Promise<DeploymentRecord> {
    // Who may see the profile at all, before saying whether it exists.
    authorize(principal, 'profile:read');
    const profile = await this.db.read((r) => r.profiles.findByName(input.profileName));
    if (!profile) throw profileNotFound(input.profileName);
    const caller = authorize(principal, 'deployment:start', { environment: profile.environment });
    const normalized = normalizeDeployment(input);
    const strategy = strategyFor(input.strategy);
    const exists = await this.db.read((r) => r.versions.get(profile, input.version));
    if (!exists) throw new NotFoundError(`version ${input.version} of profile "${profile.name}" not found`, { field: 'version' });

    const instances = (await this.registry.list({ service: profile.service, environment: profile.environment })).filter(
      (i) => i.status !== InstanceStatus.STALE,
    );
    if (instances.length === 0) {
      throw new BadInputError(
        `no live instances of service "${profile.service}" in ${profile.environment} are registered: there is nothing to deploy to`,
        { field: 'profileName' },
      );
    }
    const id = randomUUID();
    const plan = strategy.plan(instances.map((i) => i.id), normalized.options, id);
    const now = new Date();
    const started: DeploymentEventRecord = {
      deploymentId: id,
      type: EventType.STARTED,
      status: DeploymentStatus.PENDING,
      phase: 0,
      progress: 0,
      message: `${input.strategy} deployment of version ${input.version} to ${plan.targets.length} instances started by ${caller.sub}`,
      health: null,
      at: now,
    };
    await this.db.transaction(async (r) => {
      // Under the profile lock: the version cannot be deleted meanwhile, and the active version is current.
      const locked = await r.profiles.lockByName(profile.name);
      if (!locked || !(await r.versions.get(locked, input.version))) {
        throw new NotFoundError(`version ${input.version} of profile "${profile.name}" not found`, { field: 'version' });
      }
      await r.deployments.insert(
        {
          id,
          profileId: profile.id,
          service: profile.service,
          environment: profile.environment,
          version: input.version,
          previousVersion: locked.activeVersion,
          options: normalized.options,
          healthPolicy: normalized.healthPolicy,
          ackTimeoutSeconds: normalized.ackTimeoutSeconds,
          status: DeploymentStatus.PENDING,
          phaseCount: plan.phaseCount,
          startedBy: caller.sub,
          traceContext: null,
          targets: plan.targets,
        },
        now,
      );
      await r.deployments.insertEvent(started);
    });
    await this.eventPublisher.publish([started]);
    const wake: WakeMessage = { deploymentId: id, reason: 'created' };
    await this.pubsub.publish(Topics.deploymentWake, wake);
    return this.require(id);
  }

  async get(principal: Principal | undefined, id: string): Promise<DeploymentRecord | null> {
    authorize(principal, 'profile:read');
    return isUuid(id) ? this.db.read((r) => r.deployments.get(id)) : null;
  }

  async require(id: string): Promise<DeploymentRecord> {
    const found = isUuid(id) ? await this.db.read((r) => r.deployments.get(id)) : null;
    if (!found) throw new NotFoundError(`deployment ${id} not found`, { deploymentId: id });
    return found;
  }

  async list(principal: Principal | undefined, args: DeploymentListArgs): Promise<Connection<DeploymentRecord>> {
    authorize(principal, 'profile:read');
    const limit = pageSize(args.first, 50);
    const after = args.after ? parseCursor(args.after) : null;
    return this.db.read(async (r) => {
      let profileId: string | undefined;
      if (args.profileName) {
        const profile = await r.profiles.findByName(args.profileName);
        if (!profile) return toConnection([], limit, 0, () => '');
        profileId = profile.id;
      }
      const filter = { profileId, status: args.status ?? undefined };
      const [rows, total] = await Promise.all([r.deployments.list(filter, after, limit + 1), r.deployments.count(filter)]);
      return toConnection(rows, limit, total, (d) => encodeCursor({ c: d.createdAt.toISOString(), i: d.id }));
    });
  }

  targets(id: string): Promise<TargetRecord[]> {
    return this.db.read((r) => r.deployments.targets(id));
  }

  events(id: string, last: number): Promise<DeploymentEventRecord[]> {
    if (!Number.isInteger(last) || last < 1 || last > 1000) {
      throw new BadInputError(`last must be a whole number from 1 to 1000, got ${last}`, { field: 'last' });
    }
    return this.db.read((r) => r.deployments.events(id, last));
  }
}

function parseCursor(cursor: string): DeploymentCursor {
  const { c, i } = decodeCursor(cursor);
  const createdAt = new Date(String(c));
  const year = createdAt.getUTCFullYear();
  if (typeof i !== 'string' || !isUuid(i) || Number.isNaN(createdAt.getTime()) || year < 1970 || year > 9999) {
    throw new BadInputError('invalid cursor: it does not come from the deployments list', { field: 'after' });
  }
  return { createdAt, id: i };
}
