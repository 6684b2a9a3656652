import DataLoader from 'dataloader';
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { InstanceStatus } from '../domain/enums.js';
import type { InstanceService } from '../services/instance.service.js';
import type { GraphQLContext } from '../schema/context.js';
import { DeploymentTarget } from '../schema/deployment.type.js';

/** The fields of a deployment's target that live in the instance registry rather than with the deployment. */
@Resolver(() => DeploymentTarget)
export class DeploymentTargetResolver {
  /** One registry read per request, however many targets (of however many deployments) it shows. */
  private readonly statusLoaders = new WeakMap<GraphQLContext, DataLoader<string, InstanceStatus | null>>();

  constructor(private readonly instanceService: InstanceService) {}

  @FieldResolver(() => InstanceStatus, {
    nullable: true,
    description:
      'The instance\'s status in the registry now: HEALTHY, DEGRADED (a failed health verdict named it an outlier; HEALTHY again once its ' +
      'own heartbeats recover), STALE; null once it is gone (deregistered or reaped)',
  })
  instanceStatus(@Ctx() ctx: GraphQLContext, @Root() target: DeploymentTarget): Promise<InstanceStatus | null> {
    let loader = this.statusLoaders.get(ctx);
    if (!loader) {
      loader = new DataLoader(async (ids: readonly string[]) => {
        const statuses = await this.instanceService.statuses(ids);
        return ids.map((id) => statuses.get(id) ?? null);
      });
      this.statusLoaders.set(ctx, loader);
    }
    return loader.load(target.instanceId);
  }
}
