import DataLoader from 'dataloader';
import { Arg, Ctx, FieldResolver, Float, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Environment, InstanceStatus } from '../domain/enums.js';
import type { AckService } from '../services/ack.service.js';
import type { InstanceService } from '../services/instance.service.js';
import type { AppliedConfig } from '../store/instance-config.repository.js';
import type { GraphQLContext } from '../schema/context.js';
import {
  AppliedVersion,
  AssignedVersion,
  InstanceMetricsInput,
  InstanceRegistration,
  RegisterInstanceInput,
  ServiceInstance,
} from '../schema/instance.type.js';
import { toServiceInstance } from '../schema/mappers.js';

@Resolver(() => ServiceInstance)
export class InstanceResolver {
  /** One applied-versions query per request, however many instances it lists. */
  private readonly appliedLoaders = new WeakMap<GraphQLContext, DataLoader<string, AppliedConfig[]>>();
  private readonly connectedLoaders = new WeakMap<GraphQLContext, DataLoader<string, boolean>>();
  // Keyed by the instance itself (its service, environment and color pick its profiles), deduplicated by id.
  private readonly assignedLoaders = new WeakMap<GraphQLContext, DataLoader<ServiceInstance, AssignedVersion[], string>>();

  constructor(
    private readonly instanceService: InstanceService,
    private readonly ackService: AckService,
  ) {}

  @Mutation(() => InstanceRegistration)
  async registerInstance(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => RegisterInstanceInput) input: RegisterInstanceInput,
  ): Promise<InstanceRegistration> {
    const { instance, token } = await this.instanceService.register(ctx.principal, input);
    return { instance: toServiceInstance(instance), token };
  }

  @Mutation(() => String, { description: 'A fresh INSTANCE token for the instance (its own token), before the old one expires.' })
  refreshInstanceToken(@Ctx() ctx: GraphQLContext, @Arg('instanceId', () => ID) instanceId: string): Promise<string> {
    return this.instanceService.refreshToken(ctx.principal, instanceId);
  }

  @Mutation(() => ServiceInstance)
  async heartbeat(
    @Ctx() ctx: GraphQLContext,
    @Arg('instanceId', () => ID) instanceId: string,
    @Arg('metrics', () => InstanceMetricsInput, { nullable: true }) metrics: InstanceMetricsInput | null,
  ): Promise<ServiceInstance> {
    return toServiceInstance(await this.instanceService.heartbeat(ctx.principal, instanceId, metrics));
  }

  @Mutation(() => Boolean, { description: 'Acknowledges a config the instance was sent (see docs/PROTOCOL.md).' })
  reportConfigApplied(
    @Ctx() ctx: GraphQLContext,
    @Arg('instanceId', () => ID) instanceId: string,
    @Arg('profileName', () => String) profileName: string,
    @Arg('version', () => Int) version: number,
    @Arg('success', () => Boolean) success: boolean,
    @Arg('reloadMs', () => Float, { nullable: true }) reloadMs: number | null,
    @Arg('error', () => String, { nullable: true }) error: string | null,
    @Arg('traceparent', () => String, {
      nullable: true,
      description: 'W3C traceparent of the span that applied the config (it continues the push\'s ConfigUpdate.traceparent)',
    })
    traceparent: string | null,
  ): Promise<boolean> {
    return this.ackService.report(
      ctx.principal,
      { instanceId, profileName, version, success, reloadMs: reloadMs ?? null, error: error ?? null },
      traceparent,
    );
  }

  @Mutation(() => Boolean)
  deregisterInstance(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return this.instanceService.deregister(ctx.principal, id);
  }

  @Query(() => [ServiceInstance])
  async instances(
    @Ctx() ctx: GraphQLContext,
    @Arg('service', () => String, { nullable: true }) service: string | null,
    @Arg('environment', () => Environment, { nullable: true }) environment: Environment | null,
    @Arg('status', () => InstanceStatus, { nullable: true }) status: InstanceStatus | null,
  ): Promise<ServiceInstance[]> {
    const found = await this.instanceService.list(ctx.principal, {
      service: service ?? undefined,
      environment: environment ?? undefined,
      status: status ?? undefined,
    });
    return found.map(toServiceInstance);
  }

  @Query(() => ServiceInstance, { nullable: true })
  async instance(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<ServiceInstance | null> {
    const found = await this.instanceService.get(ctx.principal, id);
    return found ? toServiceInstance(found) : null;
  }

  @FieldResolver(() => [AssignedVersion], {
    description: 'Per profile, the version the instance is assigned: a deployment\'s last push to it, else its color\'s version (blue-green), else the active version',
  })
  assignedVersions(@Ctx() ctx: GraphQLContext, @Root() instance: ServiceInstance): Promise<AssignedVersion[]> {
    let loader = this.assignedLoaders.get(ctx);
    if (!loader) {
      loader = new DataLoader(
        async (instances: readonly ServiceInstance[]) => {
          const byInstance = await this.instanceService.assignedVersions(instances);
          return instances.map((i) => byInstance.get(i.id) ?? []);
        },
        { cacheKeyFn: (i) => i.id },
      );
      this.assignedLoaders.set(ctx, loader);
    }
    return loader.load(instance);
  }

  @FieldResolver(() => [AppliedVersion])
  appliedVersions(@Ctx() ctx: GraphQLContext, @Root() instance: ServiceInstance): Promise<AppliedConfig[]> {
    let loader = this.appliedLoaders.get(ctx);
    if (!loader) {
      loader = new DataLoader(async (ids: readonly string[]) => {
        const byInstance = await this.instanceService.appliedVersions([...ids]);
        return ids.map((id) => byInstance.get(id) ?? []);
      });
      this.appliedLoaders.set(ctx, loader);
    }
    return loader.load(instance.id);
  }

  @FieldResolver(() => Boolean, { description: 'Holds a configUpdates subscription on some replica (deployments target only connected instances)' })
  connected(@Ctx() ctx: GraphQLContext, @Root() instance: ServiceInstance): Promise<boolean> {
    let loader = this.connectedLoaders.get(ctx);
    if (!loader) {
      loader = new DataLoader(async (ids: readonly string[]) => {
        const presence = await this.instanceService.presence([...ids]);
        return ids.map((id) => (presence.get(id)?.connections ?? 0) > 0);
      });
      this.connectedLoaders.set(ctx, loader);
    }
    return loader.load(instance.id);
  }
}
