import { authorize, type Principal } from '../domain/authorization.js';
import type { Color, DeploymentStrategy } from '../domain/enums.js';
import { strategyFor } from '../orchestrator/strategies/select-strategy.js';
import type { InstanceRegistry } from '../registry/instance-registry.js';
import type { Database } from '../store/database.js';
import { resolveStart } from './deployment-targets.js';
import type { StartDeploymentInput } from './deployment.service.js';
import { profileNotFound } from './profile.service.js';

export interface PlannedPhase {
  phase: number;
  /** Instances the phase updates (new ones, not counting earlier phases'). */
  instances: number;
  /** How long the phase is observed after its last ack before it is judged. */
  observeSeconds: number;
}

export interface DeploymentPlanView {
  strategy: DeploymentStrategy;
  targetCount: number;
  /** Blue-green: the color the version goes to. */
  color: Color | null;
  phases: PlannedPhase[];
}

/**
 * What a deployment would do if started now: the same checks and the same
 * planning as starting one, against the instances connected at this moment,
 * and nothing written. Which instances fall in which phase is decided per
 * deployment, so a preview gives the sizes, not the names.
 */
export class DeploymentPreviewService {
  constructor(
    private readonly db: Database,
    private readonly registry: InstanceRegistry,
  ) {}

  async preview(principal: Principal | undefined, input: StartDeploymentInput): Promise<DeploymentPlanView> {
    authorize(principal, 'profile:read');
    const profile = await this.db.read((r) => r.profiles.findByName(input.profileName));
    if (!profile) throw profileNotFound(input.profileName);
    const { normalized, instances, activeColor } = await resolveStart(this.db, this.registry, profile, input);
    const strategy = strategyFor(input.strategy);
    const plan = strategy.plan({ deploymentId: 'preview', instances, options: normalized.options, activeColor });
    const phases: PlannedPhase[] = [];
    for (let phase = 1; phase <= plan.phaseCount; phase++) {
      phases.push({
        phase,
        instances: plan.targets.filter((t) => t.phase === phase).length,
        observeSeconds: strategy.observeSeconds(normalized.options, phase, plan.phaseCount),
      });
    }
    return { strategy: input.strategy, targetCount: plan.targets.length, color: plan.color, phases };
  }
}
