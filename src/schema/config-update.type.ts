import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { JsonObject } from '../domain/json.js';
import { JSONScalar } from './scalars.js';

@ObjectType({ description: 'A config pushed to an instance (see docs/PROTOCOL.md).' })
export class ConfigUpdate {
  @Field(() => String)
  profileName!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => String)
  hash!: string;

  @Field(() => JSONScalar)
  data!: JsonObject;

  @Field(() => ID, { nullable: true, description: 'Null when it is the current config sent on subscribe' })
  deploymentId!: string | null;

  @Field(() => String, { nullable: true, description: 'W3C trace context of the push' })
  traceparent!: string | null;
}
