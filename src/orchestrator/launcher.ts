import { randomUUID } from 'node:crypto';
import { SpanStatusCode } from '@opentelemetry/api';
import type { NormalizedDeployment } from '../domain/deployment-input.js';
import { type DeploymentEventRecord, EventType, INITIAL_STRATEGY_STATE } from '../domain/deployment-model.js';
import { Color, DeploymentStatus, type DeploymentStrategy } from '../domain/enums.js';
import { NotFoundError } from '../domain/errors.js';
import type { ProfileRecord } from '../domain/records.js';
import type { LiveInstance } from '../registry/instance-registry.js';
import type { Database } from '../store/database.js';
import { traceparentOf, tracer } from '../telemetry/tracing.js';
import type { DeploymentEventPublisher } from './events.js';
import type { HealthMonitor } from './health-monitor.js';
import type { Orchestrator } from './orchestrator.js';
import type { StepResult } from './step.js';
import { strategyFor } from './strategies/select-strategy.js';

/** What a new deployment starts from, checked and read by the caller. */
export interface LaunchRequest {
  profile: ProfileRecord;
  version: number;
  strategy: DeploymentStrategy;
  normalized: NormalizedDeployment;
  /** The live instances of the profile's service and environment (at least one). */
  instances: readonly LiveInstance[];
  /** The color that takes traffic now (blue-green); null before the first switch. */
  activeColor: Color | null;
  startedBy: string;
}

/** This replica's runner (src/workers/deployment-runner.ts), which goes on with a deployment whose first step ran here. */
export interface Adopter {
  /** The lease to create a deployment with; null: leave it to any replica's claim. */
  leaseForNew(): { owner: string; ms: number } | null;
  /** Goes on with the deployment after its first step. */
  adopt(deploymentId: string, first: StepResult): void;
}

/**
 * Starts deployments, in named steps: plan the targets, capture the health
 * baseline, then in one transaction write the deployment and (when this
 * replica's runner takes it) run its first step, so the first pushes go out
 * right after the commit with no hand-over in between (README, "Deployments").
 */
export class DeploymentLauncher {
  constructor(
    private readonly db: Database,
    private readonly orchestrator: Orchestrator,
    private readonly health: HealthMonitor,
    private readonly events: DeploymentEventPublisher,
    /** Without one, a new deployment waits for a runner's claim (woken through pub/sub). */
    private readonly runner?: Adopter,
  ) {}

  /** Returns the new deployment's id. @throws NotFoundError when the version was deleted meanwhile */
  async launch(req: LaunchRequest): Promise<string> {
    const { profile, version } = req;
    const id = randomUUID();
    const strategy = strategyFor(req.strategy);
    if (strategy.judgesHealth) this.health.assertAnswerable(req.normalized.healthPolicy);
    const plan = strategy.plan({ deploymentId: id, instances: req.instances, options: req.normalized.options, activeColor: req.activeColor });
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
        `${req.strategy} deployment of version ${version} to ${plan.targets.length} instances` +
        `${plan.color === null ? '' : ` of color ${plan.color}`} in ${plan.phaseCount} phase${plan.phaseCount === 1 ? '' : 's'}, started by ${req.startedBy}`,
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
        'hotswap.strategy': req.strategy,
        'hotswap.version': version,
        'hotswap.targets': plan.targets.length,
        'hotswap.phase_count': plan.phaseCount,
      },
    });
    const lease = this.runner?.leaseForNew() ?? null;
    const first = await this.db
      .transaction(async (r) => {
        // Under the profile lock: the version cannot be deleted meanwhile, and the active version is current.
        const locked = await r.profiles.lockByName(profile.name);
        if (!locked || !(await r.versions.get(locked, version))) {
          throw new NotFoundError(`version ${version} of profile "${profile.name}" not found`, { field: 'version' });
        }
        await r.deployments.insert(
          {
            id,
            profileId: profile.id,
            service: profile.service,
            environment: profile.environment,
            version,
            previousVersion: locked.activeVersion,
            ...req.normalized,
            status: DeploymentStatus.PENDING,
            phaseCount: plan.phaseCount,
            state: { ...INITIAL_STRATEGY_STATE, baseline: baseline?.snapshot ?? null, baselineSamples: baseline?.samples ?? null, color: plan.color, previousColor: otherColor },
            startedBy: req.startedBy,
            traceContext: traceparentOf(span),
            ...(lease && { lease }),
          },
          now,
        );
        await r.deployments.insertEvent(started);
        if (lease) return this.orchestrator.firstStep(r, id, lease.owner, plan.targets);
        await r.targets.insert(id, plan.targets, null);
        return null;
      })
      .catch((error: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
        throw error;
      })
      .finally(() => span.end());
    if (first && this.runner) {
      // Adopted before anything is published (and before any claim could see it): no ack's
      // wake-up finds nothing to wake. Then the pushes, STARTED and the first step's events.
      this.runner.adopt(id, first.result);
      await first.publish([started]);
    } else {
      await this.events.publish([started]);
      await this.events.wake(id, 'created');
    }
    return id;
  }
}
