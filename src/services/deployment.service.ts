import { authorize, type Principal } from '../domain/authorization.js';
import type { DeploymentEventRecord, DeploymentRecord, TargetRecord } from '../domain/deployment-model.js';
import { type StartDeploymentRequest } from '../domain/deployment-input.js';
import { type Color, DeploymentStatus, type DeploymentStrategy, type Environment } from '../domain/enums.js';
import { BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import type { HealthReport } from '../domain/health.js';
import { isUuid } from '../domain/ids.js';
import { cancelMove, type ControlMove, pauseMove, resumeMove, rollbackMove } from '../domain/lifecycle/controls.js';
import { decodeCursor, encodeCursor, pageSize } from '../domain/pagination.js';
import { type Connection, toConnection } from '../domain/records.js';
import type { DeploymentLauncher } from '../orchestrator/launcher.js';
import type { Orchestrator } from '../orchestrator/orchestrator.js';
import type { InstanceRegistry } from '../registry/instance-registry.js';
import type { Database, Repositories } from '../store/database.js';
import type { DeploymentCursor } from '../store/deployment.repository.js';
import { resolveStart } from './deployment-targets.js';
import { profileNotFound } from './profile.service.js';

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

/** Starts deployments and reads them; the orchestrator runs them and applies operators' controls. */
export class DeploymentService {
  constructor(
    private readonly db: Database,
    private readonly registry: InstanceRegistry,
    private readonly launcher: DeploymentLauncher,
    private readonly orchestrator: Orchestrator,
    /** Told of every deployment started (metrics). */
    private readonly onStarted?: (strategy: DeploymentStrategy, environment: Environment) => void,
  ) {}

  async start(principal: Principal | undefined, input: StartDeploymentInput): Promise<DeploymentRecord> {
    // Who may see the profile at all, before saying whether it exists.
    authorize(principal, 'profile:read');
    const profile = await this.db.read((r) => r.profiles.findByName(input.profileName));
    if (!profile) throw profileNotFound(input.profileName);
    const caller = authorize(principal, 'deployment:start', { environment: profile.environment });
    const { normalized, instances, activeColor } = await resolveStart(this.db, this.registry, profile, input);
    const id = await this.launcher.launch({
      profile,
      version: input.version,
      strategy: input.strategy,
      normalized,
      instances,
      activeColor,
      startedBy: caller.sub,
    });
    this.onStarted?.(input.strategy, profile.environment);
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

  /** Stops advancing at the next step boundary (the running step finishes first: it holds the row lock). */
  pause(principal: Principal | undefined, id: string): Promise<DeploymentRecord> {
    return this.control(principal, id, (_r, d, by) => pauseMove(d, by));
  }

  /** Continues a paused deployment where it stopped. */
  resume(principal: Principal | undefined, id: string): Promise<DeploymentRecord> {
    return this.control(principal, id, (_r, d, by) => resumeMove(d, by));
  }

  /**
   * Gives the previous version back to every instance that got the new one
   * (or, after a blue-green switch, switches traffic back): while IN_PROGRESS
   * or PAUSED, or after COMPLETED when it is the profile's last deployment.
   */
  rollback(principal: Principal | undefined, id: string, reason: string): Promise<DeploymentRecord> {
    return this.control(principal, id, async (r, d, by) => {
      const move = rollbackMove(d, reason, by);
      if (d.status === DeploymentStatus.COMPLETED) await assertLastCompleted(r, d);
      return move;
    });
  }

  /** Ends a deployment that has pushed nothing yet as CANCELLED. */
  cancel(principal: Principal | undefined, id: string, reason: string): Promise<DeploymentRecord> {
    return this.control(principal, id, (_r, d, by) => cancelMove(d, reason, by));
  }

  private async control(
    principal: Principal | undefined,
    id: string,
    move: (r: Repositories, d: DeploymentRecord, by: string) => Promise<ControlMove> | ControlMove,
  ): Promise<DeploymentRecord> {
    authorize(principal, 'profile:read');
    const found = await this.require(id);
    const caller = authorize(principal, 'deployment:control', { environment: found.environment });
    await this.orchestrator.control(id, (r, d) => move(r, d, caller.sub));
    return this.require(id);
  }

  /** The health checks of a deployment, oldest first (the last `last`). */
  async healthChecks(id: string, last: number): Promise<HealthReport[]> {
    if (!Number.isInteger(last) || last < 1 || last > 1000) {
      throw new BadInputError(`last must be a whole number from 1 to 1000, got ${last}`, { field: 'last' });
    }
    const events = await this.db.read((r) => r.deployments.healthChecks(id, last));
    return events.flatMap((e) => (e.health === null ? [] : [e.health]));
  }

  /** The color that takes traffic for a service and environment; null before the first blue-green switch. */
  activeColor(principal: Principal | undefined, service: string, environment: Environment): Promise<Color | null> {
    authorize(principal, 'profile:read');
    return this.db.read((r) => r.traffic.activeColor(service, environment));
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

/** A COMPLETED deployment may be rolled back only while its version is active and no deployment of the profile ran after it. */
async function assertLastCompleted(r: Repositories, d: DeploymentRecord): Promise<void> {
  const running = await r.deployments.findActiveForProfile(d.profileId);
  if (running) {
    throw new ConflictError(`deployment ${running.id} of this profile is ${running.status}; roll that one back or wait for it to end`, {
      runningDeploymentId: running.id,
    });
  }
  const last = await r.deployments.lastFinished(d.profileId);
  const profile = await r.profiles.lockByName(d.profileName);
  if (last?.id !== d.id || profile?.activeVersion !== d.version) {
    throw new ConflictError(
      `deployment ${d.id} is no longer the profile's last one (version ${profile?.activeVersion ?? 'none'} is active now); ` +
        'roll back the latest deployment, or deploy the version you want',
      { lastDeploymentId: last?.id },
    );
  }
}

/** The value of a settled read, or its error thrown. */
function parseCursor(cursor: string): DeploymentCursor {
  const { c, i } = decodeCursor(cursor);
  const createdAt = new Date(String(c));
  const year = createdAt.getUTCFullYear();
  if (typeof i !== 'string' || !isUuid(i) || Number.isNaN(createdAt.getTime()) || year < 1970 || year > 9999) {
    throw new BadInputError('invalid cursor: it does not come from the deployments list', { field: 'after' });
  }
  return { createdAt, id: i };
}
