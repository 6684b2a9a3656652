import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { DeploymentStatus } from '../domain/enums.js';
import type { DeploymentService } from '../services/deployment.service.js';
import type { GraphQLContext } from '../schema/context.js';
import { StartDeploymentInput } from '../schema/deployment.input.js';
import { Deployment, DeploymentConnection, DeploymentEvent, DeploymentTarget } from '../schema/deployment.type.js';
import { toDeployment, toDeploymentConnection } from '../schema/mappers.js';

@Resolver(() => Deployment)
export class DeploymentResolver {
  constructor(private readonly deploymentService: DeploymentService) {}

  @Mutation(() => Deployment)
  async startDeployment(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => StartDeploymentInput) input: StartDeploymentInput,
  ): Promise<Deployment> {
    return toDeployment(await this.deploymentService.start(ctx.principal, input));
  }

  @Query(() => Deployment, { nullable: true })
  async deployment(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Deployment | null> {
    const found = await this.deploymentService.get(ctx.principal, id);
    return found ? toDeployment(found) : null;
  }

  @Query(() => DeploymentConnection, { description: 'Deployments, newest first.' })
  async deployments(
    @Ctx() ctx: GraphQLContext,
    @Arg('profileName', () => String, { nullable: true }) profileName: string | null,
    @Arg('status', () => DeploymentStatus, { nullable: true }) status: DeploymentStatus | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<DeploymentConnection> {
    return toDeploymentConnection(await this.deploymentService.list(ctx.principal, { profileName, status, first, after }));
  }

  @FieldResolver(() => [DeploymentTarget])
  targets(@Root() deployment: Deployment): Promise<DeploymentTarget[]> {
    return this.deploymentService.targets(deployment.id);
  }

  @FieldResolver(() => [DeploymentEvent], { description: 'The last events, oldest first.' })
  events(@Root() deployment: Deployment, @Arg('last', () => Int, { nullable: true, defaultValue: 50 }) last: number | null): Promise<DeploymentEvent[]> {
    return this.deploymentService.events(deployment.id, last ?? 50);
  }
}
