import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Color, DeploymentStatus, Environment } from '../domain/enums.js';
import type { DeploymentService } from '../services/deployment.service.js';
import type { GraphQLContext } from '../schema/context.js';
import { StartDeploymentInput } from '../schema/deployment.input.js';
import { Deployment, DeploymentConnection, DeploymentEvent, DeploymentTarget } from '../schema/deployment.type.js';
import { HealthReport } from '../schema/health.type.js';
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

  @Mutation(() => Deployment, { description: 'Stops advancing at the next step boundary (OPERATOR, ADMIN).' })
  async pauseDeployment(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Deployment> {
    return toDeployment(await this.deploymentService.pause(ctx.principal, id));
  }

  @Mutation(() => Deployment, { description: 'Continues a PAUSED deployment where it stopped (OPERATOR, ADMIN).' })
  async resumeDeployment(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<Deployment> {
    return toDeployment(await this.deploymentService.resume(ctx.principal, id));
  }

  @Mutation(() => Deployment, {
    description:
      'Gives the previous version back to every instance that got the new one (after a blue-green switch: switches traffic back). ' +
      'While IN_PROGRESS or PAUSED, or after COMPLETED for the profile\'s last deployment (OPERATOR, ADMIN).',
  })
  async rollbackDeployment(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String) reason: string,
  ): Promise<Deployment> {
    return toDeployment(await this.deploymentService.rollback(ctx.principal, id, reason));
  }

  @Mutation(() => Deployment, {
    description: 'Ends a deployment that has pushed nothing yet (PENDING) as CANCELLED, with the reason (OPERATOR, ADMIN).',
  })
  async cancelDeployment(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String) reason: string,
  ): Promise<Deployment> {
    return toDeployment(await this.deploymentService.cancel(ctx.principal, id, reason));
  }

  @Query(() => Color, { nullable: true, description: 'The color that takes traffic (blue-green); null before the first switch.' })
  activeColor(
    @Ctx() ctx: GraphQLContext,
    @Arg('service', () => String) service: string,
    @Arg('environment', () => Environment) environment: Environment,
  ): Promise<Color | null> {
    return this.deploymentService.activeColor(ctx.principal, service, environment);
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

  @FieldResolver(() => HealthReport, { nullable: true, description: 'The latest health check; null before the first.' })
  async health(@Root() deployment: Deployment): Promise<HealthReport | null> {
    return (await this.deploymentService.healthChecks(deployment.id, 1))[0] ?? null;
  }

  @FieldResolver(() => [HealthReport], { description: 'The last health checks, oldest first.' })
  healthChecks(
    @Root() deployment: Deployment,
    @Arg('last', () => Int, { nullable: true, defaultValue: 20 }) last: number | null,
  ): Promise<HealthReport[]> {
    return this.deploymentService.healthChecks(deployment.id, last ?? 20);
  }

  @FieldResolver(() => [DeploymentEvent], { description: 'The last events, oldest first.' })
  events(@Root() deployment: Deployment, @Arg('last', () => Int, { nullable: true, defaultValue: 50 }) last: number | null): Promise<DeploymentEvent[]> {
    return this.deploymentService.events(deployment.id, last ?? 50);
  }
}
