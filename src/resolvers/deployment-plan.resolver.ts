import { Arg, Ctx, Query, Resolver } from 'type-graphql';
import type { DeploymentPreviewService } from '../services/deployment-preview.service.js';
import type { GraphQLContext } from '../schema/context.js';
import { StartDeploymentInput } from '../schema/deployment.input.js';
import { DeploymentPlan } from '../schema/deployment-plan.type.js';

@Resolver()
export class DeploymentPlanResolver {
  constructor(private readonly previews: DeploymentPreviewService) {}

  @Query(() => DeploymentPlan, {
    description: 'The plan startDeployment would make with this input now (phases and how many instances each), with the same checks; starts nothing.',
  })
  deploymentPlan(@Ctx() ctx: GraphQLContext, @Arg('input', () => StartDeploymentInput) input: StartDeploymentInput): Promise<DeploymentPlan> {
    return this.previews.preview(ctx.principal, input);
  }
}
