import { randomUUID } from 'node:crypto';
import { authorize, type Principal } from '../domain/authorization.js';
import { assertTransition } from '../domain/deployment.js';
import type { DeploymentEventRecord, DeploymentRecord, TargetRecord } from '../domain/deployment-model.js';
import { EventType, INITIAL_STRATEGY_STATE } from '../domain/deployment-model.js';
import { normalizeDeployment, type StartDeploymentRequest } from '../domain/deployment-input.js';
import { Color, DeploymentStatus, type DeploymentStrategy, type Environment } from '../domain/enums.js';
import { BadInputError, ConflictError, NotFoundError } from '../domain/errors.js';
import type { HealthReport } from '../domain/health.js';
import { checkManualRollback, rollbackStart } from '../domain/rollback.js';
import type { HealthMonitor } from '../orchestrator/health-monitor.js';
import type { FirstStep, PlannedTargets, StepResult } from '../orchestrator/orchestrator.js';
import { traceparentOf, tracer } from '../telemetry/tracing.js';
import { SpanStatusCode } from '@opentelemetry/api';
import { decodeCursor, encodeCursor, pageSize } from '../domain/pagination.js';
import { type Connection, toConnection } from '../domain/records.js';
import type { DeploymentEventPublisher } from '../orchestrator/events.js';
import { strategyFor } from '../orchestrator/strategies/select-strategy.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { Topics, type WakeMessage } from '../pubsub/topics.js';
import type { InstanceRegistry } from '../registry/instance-registry.js';
import type { Database, Repositories } from '../store/database.js';
import type { DeploymentCursor, DeploymentPatch } from '../store/deployment.repository.js';
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

/**
 * Runs a new deployment's first step in the transaction that creates it, and
 * the deployment from there: this replica's runner (src/workers/deployment-runner.ts).
 */
export interface DeploymentStarter {
  /** The lease to create a deployment with; null: leave it to any replica's claim. */
  leaseForNew(): { owner: string; ms: number } | null;
  /** Writes the planned targets (with the first pushes) and runs the first step. */
  firstStep(r: Repositories, deploymentId: string, owner: string, targets: PlannedTargets): Promise<FirstStep>;
  /** Goes on with the deployment after its first step. */
  adopt(deploymentId: string, first: StepResult): void;
}

/** Starts deployments and reads them; the orchestrator runs them. */
export class DeploymentService {
  constructor(
    private readonly db: Database,
    private readonly registry: InstanceRegistry,
    private readonly health: HealthMonitor,
    private readonly eventPublisher: DeploymentEventPublisher,
    private readonly pubsub: PubSub,
    /** Told of every deployment started (metrics). */
    private readonly onStarted?: (strategy: DeploymentStrategy, environment: Environment) => void,
    /** Without one, a new deployment waits for a runner's claim (woken through pub/sub). */
    private readonly starter?: DeploymentStarter,
  ) {}

  async start(principal: Principal | undefined, input: StartDeploymentInput): Promise<DeploymentRecord> {
    // Who may see the profile at all, before saying whether it exists.
    authorize(principal, 'profile:read');
    const profile = await this.db.read((r) => r.profiles.findByName(input.profileName));
    if (!profile) throw profileNotFound(input.profileName);
    const caller = authorize(principal, 'deployment:start', { environment: profile.environment });
    const normalized = normalizeDeployment(input);
    const strategy = strategyFor(input.strategy);
    // Independent reads, at once: each is a round trip on the way to the first push. Their errors
    // keep the order of one after another: a missing version is NOT_FOUND even while Redis is down.
    const [version, live, color] = await Promise.allSettled([
      this.db.read((r) => r.versions.get(profile, input.version)),
      this.registry.liveInstances(profile.service, profile.environment),
      strategy.switchesTraffic ? this.db.read((r) => r.traffic.activeColor(profile.service, profile.environment)) : null,
    ]);
    if (!valueOf(version)) throw new NotFoundError(`version ${input.version} of profile "${profile.name}" not found`, { field: 'version' });
    const instances = valueOf(live);
    const activeColor = valueOf(color);
    if (instances.length === 0) {
      throw new BadInputError(
        `no instance of service "${profile.service}" in ${profile.environment} is connected (registered, not STALE, and subscribed to configUpdates): there is nothing to deploy to`,
        { field: 'profileName' },
      );
    }
    const id = randomUUID();
    const plan = strategy.plan({ deploymentId: id, instances, options: normalized.options, activeColor });
    const now = new Date();
    const baseline = strategy.judgesHealth ? await this.health.baseline(plan.targets.map((t) => t.instanceId), now) : null;
    const otherColor = plan.color === null ? null : plan.color === Color.BLUE ? Color.GREEN : Color.BLUE;
    const started: DeploymentEventRecord = {
      deploymentId: id,
      type: EventType.STARTED,
      status: DeploymentStatus.PENDING,
      phase: 0,
      progress: 0,
      message:
        `${input.strategy} deployment of version ${input.version} to ${plan.targets.length} instances` +
        `${plan.color === null ? '' : ` of color ${plan.color}`} in ${plan.phaseCount} phase${plan.phaseCount === 1 ? '' : 's'}, started by ${caller.sub}`,
      health: null,
      at: now,
    };
    // The root of the deployment's trace (a child of the mutation's span): every later step joins it.
    const span = tracer().startSpan('hotswap.deployment', {
      attributes: {
        'hotswap.deployment.id': id,
        'hotswap.profile': profile.name,
        'hotswap.service': profile.service,
        'hotswap.environment': profile.environment,
        'hotswap.strategy': input.strategy,
        'hotswap.version': input.version,
        'hotswap.targets': plan.targets.length,
        'hotswap.phase_count': plan.phaseCount,
      },
    });
    // This replica's runner takes the lease at once and runs the first step in this transaction:
    // the first pushes go out right after the commit, with no hand-over to a runner in between.
    const lease = this.starter?.leaseForNew() ?? null;
    const first = await this.db.transaction(async (r) => {
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
          state: { ...INITIAL_STRATEGY_STATE, baseline, color: plan.color, previousColor: otherColor },
          startedBy: caller.sub,
          traceContext: traceparentOf(span),
          ...(lease && { lease }),
        },
        now,
      );
      await r.deployments.insertEvent(started);
      if (lease && this.starter) return this.starter.firstStep(r, id, lease.owner, plan.targets);
      await r.targets.insert(id, plan.targets, null);
      return null;
    }).catch((error: unknown) => {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    }).finally(() => span.end());
    this.onStarted?.(input.strategy, profile.environment);
    if (first && this.starter) {
      // Adopted before anything is published (and before any claim could see it): no ack's
      // wake-up finds nothing to wake. Then the pushes, STARTED and the first step's events.
      this.starter.adopt(id, first.result);
      await first.publish([started]);
    } else {
      await this.eventPublisher.publish([started]);
      const wake: WakeMessage = { deploymentId: id, reason: 'created' };
      await this.pubsub.publish(Topics.deploymentWake, wake);
    }
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
    return this.control(principal, id, (r, d, by) => {
      assertTransition(d.status, DeploymentStatus.PAUSED);
      return { patch: { status: DeploymentStatus.PAUSED }, type: EventType.PAUSED, message: `paused by ${by}` };
    });
  }

  /** Continues a paused deployment where it stopped. */
  resume(principal: Principal | undefined, id: string): Promise<DeploymentRecord> {
    return this.control(principal, id, (r, d, by) => {
      if (d.status !== DeploymentStatus.PAUSED) {
        throw new ConflictError(`deployment is ${d.status}; only a PAUSED deployment can be resumed`, { status: d.status });
      }
      return { patch: { status: DeploymentStatus.IN_PROGRESS }, type: EventType.RESUMED, message: `resumed by ${by}` };
    });
  }

  /**
   * Gives the previous version back to every instance that got the new one
   * (or, after a blue-green switch, switches traffic back): while IN_PROGRESS
   * or PAUSED, or after COMPLETED when it is the profile's last deployment.
   */
  rollback(principal: Principal | undefined, id: string, reason: string): Promise<DeploymentRecord> {
    return this.control(principal, id, async (r, d, by) => {
      const why = checkManualRollback(d, reason);
      if (d.status === DeploymentStatus.COMPLETED) await assertLastCompleted(r, d);
      return { patch: rollbackStart(d, why), type: EventType.ROLLBACK_STARTED, message: `rollback requested by ${by}: ${why}` };
    });
  }

  /**
   * Runs a pause, resume or rollback: with the deployment row locked (so it
   * applies between two steps of its runner), writes the change and its event,
   * then publishes the event and wakes the runner.
   */
  private async control(
    principal: Principal | undefined,
    id: string,
    change: (r: Repositories, d: DeploymentRecord, by: string) => Promise<ControlChange> | ControlChange,
  ): Promise<DeploymentRecord> {
    authorize(principal, 'profile:read');
    const found = await this.require(id);
    const caller = authorize(principal, 'deployment:control', { environment: found.environment });
    const event = await this.db.transaction(async (r) => {
      const d = await r.deployments.lock(id);
      if (!d) throw new NotFoundError(`deployment ${id} not found`, { deploymentId: id });
      const { patch, type, message } = await change(r, d, caller.sub);
      const now = new Date();
      await r.deployments.update(d.id, patch, now);
      const e: DeploymentEventRecord = {
        deploymentId: d.id,
        type,
        status: patch.status ?? d.status,
        phase: d.phase,
        progress: d.result.progress,
        message,
        health: null,
        at: now,
      };
      await r.deployments.insertEvent(e);
      return e;
    });
    await this.eventPublisher.publish([event]);
    const wake: WakeMessage = { deploymentId: id, reason: 'control' };
    await this.pubsub.publish(Topics.deploymentWake, wake);
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

interface ControlChange {
  patch: DeploymentPatch;
  type: EventType;
  message: string;
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
function valueOf<T>(settled: PromiseSettledResult<T>): T {
  if (settled.status === 'rejected') throw settled.reason;
  return settled.value;
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
