import { Field, ID, InputType } from 'type-graphql';
import { Environment } from '../domain/enums.js';
import type { JsonValue } from '../domain/json.js';
import { JSONScalar } from './scalars.js';

@InputType()
export class CreateProfileInput {
  @Field(() => String, { description: 'Unique slug: lowercase letters, digits and hyphens, 1–63 characters' })
  name!: string;

  @Field(() => String)
  service!: string;

  @Field(() => Environment)
  environment!: Environment;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => ID, { nullable: true, description: 'The JSON Schema every version is validated against (APPROVED for PRODUCTION)' })
  schemaId?: string | null;
}

@InputType()
export class UpdateProfileInput {
  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => ID, { nullable: true, description: 'Binds a schema (APPROVED for PRODUCTION); null unbinds it' })
  schemaId?: string | null;
}

@InputType()
export class PublishVersionInput {
  @Field(() => JSONScalar, { description: 'The config: a JSON object within the size limit' })
  data!: JsonValue;

  @Field(() => String, { nullable: true })
  description?: string | null;
}
