import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { SchemaStatus } from '../domain/enums.js';
import type { JsonValue } from '../domain/json.js';
import { DateTimeScalar, JSONScalar } from './scalars.js';

@ObjectType({ description: 'A version of a JSON Schema (draft 2020-12 or draft-07) and its approval state.' })
export class ConfigSchema {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Int)
  schemaVersion!: number;

  @Field(() => JSONScalar)
  schema!: JsonValue;

  @Field(() => SchemaStatus)
  status!: SchemaStatus;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String)
  createdBy!: string;

  @Field(() => String, { nullable: true, description: 'Who approved it (null until APPROVED)' })
  approvedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Who rejected it (null unless REJECTED)' })
  rejectedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Who submitted it for approval' })
  submittedBy!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  submittedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it was approved or rejected' })
  decidedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The approval comment or the rejection reason' })
  decisionComment!: string | null;

  @Field(() => JSONScalar, {
    nullable: true,
    description: 'Breaking-change report against the previous approved version, computed on submission',
  })
  compatibility!: unknown;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType()
export class ValidationError {
  @Field(() => String, { description: 'JSON Pointer into the config' })
  path!: string;

  @Field(() => String)
  message!: string;

  @Field(() => String)
  keyword!: string;
}

@ObjectType()
export class ValidationResult {
  @Field(() => Boolean)
  valid!: boolean;

  @Field(() => [ValidationError])
  errors!: ValidationError[];
}

@InputType()
export class RegisterSchemaInput {
  @Field(() => String, { description: 'Slug; registering an existing name creates its next schemaVersion' })
  name!: string;

  @Field(() => JSONScalar)
  schema!: JsonValue;

  @Field(() => String, { nullable: true })
  description?: string | null;
}
