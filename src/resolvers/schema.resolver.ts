import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { SchemaStatus } from '../domain/enums.js';
import type { JsonValue } from '../domain/json.js';
import type { SchemaService } from '../services/schema.service.js';
import type { GraphQLContext } from '../schema/context.js';
import { toConfigSchema } from '../schema/mappers.js';
import { JSONScalar } from '../schema/scalars.js';
import { ConfigSchema, RegisterSchemaInput, ValidationResult } from '../schema/schema.type.js';

@Resolver(() => ConfigSchema)
export class SchemaResolver {
  constructor(private readonly schemaService: SchemaService) {}

  @Query(() => [ConfigSchema], { description: 'Schemas, newest first.' })
  async schemas(
    @Ctx() ctx: GraphQLContext,
    @Arg('status', () => SchemaStatus, { nullable: true }) status: SchemaStatus | null,
  ): Promise<ConfigSchema[]> {
    return (await this.schemaService.list(ctx.principal, status)).map(toConfigSchema);
  }

  @Query(() => ConfigSchema, { nullable: true })
  async schema(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<ConfigSchema | null> {
    const found = await this.schemaService.get(ctx.principal, id);
    return found ? toConfigSchema(found) : null;
  }

  @Query(() => ValidationResult, { description: 'Every failure of the config against the schema, with JSON Pointer paths.' })
  validateConfig(
    @Ctx() ctx: GraphQLContext,
    @Arg('schemaId', () => ID) schemaId: string,
    @Arg('data', () => JSONScalar) data: JsonValue,
  ): Promise<ValidationResult> {
    return this.schemaService.validate(ctx.principal, schemaId, data);
  }

  @Mutation(() => ConfigSchema)
  async registerSchema(@Ctx() ctx: GraphQLContext, @Arg('input', () => RegisterSchemaInput) input: RegisterSchemaInput): Promise<ConfigSchema> {
    return toConfigSchema(await this.schemaService.register(ctx.principal, input));
  }

  @Mutation(() => ConfigSchema, { description: 'DRAFT → PENDING_APPROVAL; computes the compatibility report.' })
  async submitSchemaForApproval(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<ConfigSchema> {
    return toConfigSchema(await this.schemaService.submit(ctx.principal, id));
  }

  @Mutation(() => ConfigSchema, { description: 'PENDING_APPROVAL → APPROVED (ADMIN).' })
  async approveSchema(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('comment', () => String, { nullable: true }) comment: string | null,
  ): Promise<ConfigSchema> {
    return toConfigSchema(await this.schemaService.approve(ctx.principal, id, comment ?? null));
  }

  @Mutation(() => ConfigSchema, { description: 'PENDING_APPROVAL → REJECTED with a reason (ADMIN).' })
  async rejectSchema(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String) reason: string,
  ): Promise<ConfigSchema> {
    return toConfigSchema(await this.schemaService.reject(ctx.principal, id, reason));
  }
}
