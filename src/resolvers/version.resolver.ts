import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import { authorize } from '../domain/authorization.js';
import type { VersionService } from '../services/version.service.js';
import type { GraphQLContext } from '../schema/context.js';
import { toConfigVersion, toVersionDiff } from '../schema/mappers.js';
import { PublishVersionInput } from '../schema/profile.input.js';
import { ConfigVersion, VersionDiff } from '../schema/version.type.js';

@Resolver(() => ConfigVersion)
export class VersionResolver {
  constructor(private readonly versionService: VersionService) {}

  @Query(() => ConfigVersion, { nullable: true })
  async version(
    @Ctx() ctx: GraphQLContext,
    @Arg('profileName', () => String) profileName: string,
    @Arg('version', () => Int) version: number,
  ): Promise<ConfigVersion | null> {
    authorize(ctx.principal, 'profile:read');
    const found = await this.versionService.get(profileName, version);
    return found ? toConfigVersion(found) : null;
  }

  @Query(() => VersionDiff)
  async versionDiff(
    @Ctx() ctx: GraphQLContext,
    @Arg('profileName', () => String) profileName: string,
    @Arg('from', () => Int) from: number,
    @Arg('to', () => Int) to: number,
  ): Promise<VersionDiff> {
    authorize(ctx.principal, 'profile:read');
    return toVersionDiff(await this.versionService.diff(profileName, from, to));
  }

  @Mutation(() => ConfigVersion)
  async publishVersion(
    @Ctx() ctx: GraphQLContext,
    @Arg('profileName', () => String) profileName: string,
    @Arg('input', () => PublishVersionInput) input: PublishVersionInput,
  ): Promise<ConfigVersion> {
    const principal = authorize(ctx.principal, 'version:publish');
    return toConfigVersion(await this.versionService.publish(profileName, input, principal.sub));
  }

  @Mutation(() => Boolean, { description: 'Deletes a version that is not active (ADMIN).' })
  deleteVersion(
    @Ctx() ctx: GraphQLContext,
    @Arg('profileName', () => String) profileName: string,
    @Arg('version', () => Int) version: number,
  ): Promise<boolean> {
    authorize(ctx.principal, 'version:delete');
    return this.versionService.delete(profileName, version);
  }
}
