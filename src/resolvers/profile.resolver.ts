import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { authorize } from '../domain/authorization.js';
import { Environment } from '../domain/enums.js';
import type { ProfileService } from '../services/profile.service.js';
import type { SchemaService } from '../services/schema.service.js';
import type { VersionService } from '../services/version.service.js';
import type { GraphQLContext } from '../schema/context.js';
import { toConfigProfile, toConfigSchema, toConfigVersion, toProfileConnection, toVersionConnection } from '../schema/mappers.js';
import { ConfigSchema } from '../schema/schema.type.js';
import { CreateProfileInput, UpdateProfileInput } from '../schema/profile.input.js';
import { ConfigProfile, ConfigProfileConnection } from '../schema/profile.type.js';
import { ConfigVersion, ConfigVersionConnection } from '../schema/version.type.js';

@Resolver(() => ConfigProfile)
export class ProfileResolver {
  constructor(
    private readonly profileService: ProfileService,
    private readonly versionService: VersionService,
    private readonly schemaService: SchemaService,
  ) {}

  @Query(() => ConfigProfileConnection, { description: 'Profiles, newest first.' })
  async profiles(
    @Ctx() ctx: GraphQLContext,
    @Arg('service', () => String, { nullable: true }) service: string | null,
    @Arg('environment', () => Environment, { nullable: true }) environment: Environment | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ConfigProfileConnection> {
    authorize(ctx.principal, 'profile:read');
    return toProfileConnection(await this.profileService.list({ service, environment, first, after }));
  }

  @Query(() => ConfigProfile, { nullable: true })
  async profile(@Ctx() ctx: GraphQLContext, @Arg('name', () => String) name: string): Promise<ConfigProfile | null> {
    authorize(ctx.principal, 'profile:read');
    const profile = await this.profileService.get(name);
    return profile ? toConfigProfile(profile) : null;
  }

  @Mutation(() => ConfigProfile)
  async createProfile(
    @Ctx() ctx: GraphQLContext,
    @Arg('input', () => CreateProfileInput) input: CreateProfileInput,
  ): Promise<ConfigProfile> {
    authorize(ctx.principal, 'profile:write');
    return toConfigProfile(await this.profileService.create(input));
  }

  @Mutation(() => ConfigProfile)
  async updateProfile(
    @Ctx() ctx: GraphQLContext,
    @Arg('name', () => String) name: string,
    @Arg('input', () => UpdateProfileInput) input: UpdateProfileInput,
  ): Promise<ConfigProfile> {
    authorize(ctx.principal, 'profile:write');
    return toConfigProfile(await this.profileService.update(name, input));
  }

  @Mutation(() => Boolean, { description: 'Deletes the profile and all its versions (ADMIN).' })
  deleteProfile(@Ctx() ctx: GraphQLContext, @Arg('name', () => String) name: string): Promise<boolean> {
    authorize(ctx.principal, 'profile:delete');
    return this.profileService.delete(name);
  }

  @FieldResolver(() => ConfigVersion, { nullable: true })
  async latestVersion(@Root() profile: ConfigProfile): Promise<ConfigVersion | null> {
    const latest = await this.versionService.latest(profile);
    return latest ? toConfigVersion(latest) : null;
  }

  @FieldResolver(() => ConfigSchema, { nullable: true, description: 'The schema every version is validated against.' })
  async schema(@Root() profile: ConfigProfile): Promise<ConfigSchema | null> {
    if (profile.schemaId === null) return null;
    const bound = await this.schemaService.bound(profile.schemaId);
    return bound ? toConfigSchema(bound) : null;
  }

  @FieldResolver(() => ConfigVersion, { nullable: true, description: 'Version of the last completed deployment.' })
  async activeVersion(@Root() profile: ConfigProfile): Promise<ConfigVersion | null> {
    if (profile.activeVersion === null) return null;
    const active = await this.versionService.get(profile.name, profile.activeVersion);
    return active ? toConfigVersion(active) : null;
  }

  @FieldResolver(() => ConfigVersionConnection, { description: 'Versions, newest first.' })
  async versions(
    @Root() profile: ConfigProfile,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ): Promise<ConfigVersionConnection> {
    return toVersionConnection(await this.versionService.list(profile, first, after));
  }
}
