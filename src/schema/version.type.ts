import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ChangeOp } from '../domain/enums.js';
import type { JsonValue } from '../domain/json.js';
import { connectionOf } from './connection.type.js';
import { DateTimeScalar, JSONScalar } from './scalars.js';

@ObjectType({ description: 'An immutable published version of a profile\'s config.' })
export class ConfigVersion {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  profileName!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => JSONScalar)
  data!: JsonValue;

  @Field(() => String, { description: 'sha256 hex of the canonical JSON (RFC 8785 key order)' })
  hash!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String)
  createdBy!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

export const ConfigVersionConnection = connectionOf(ConfigVersion, 'ConfigVersion');
export type ConfigVersionConnection = InstanceType<typeof ConfigVersionConnection>;

@ObjectType()
export class ConfigChange {
  @Field(() => ChangeOp)
  op!: ChangeOp;

  @Field(() => String, { description: 'JSON Pointer (RFC 6901) of the changed value' })
  path!: string;

  @Field(() => JSONScalar, { nullable: true })
  before?: JsonValue;

  @Field(() => JSONScalar, { nullable: true })
  after?: JsonValue;
}

@ObjectType()
export class VersionDiff {
  @Field(() => String)
  profileName!: string;

  @Field(() => Int)
  from!: number;

  @Field(() => Int)
  to!: number;

  @Field(() => JSONScalar, { nullable: true, description: 'jsondiffpatch delta, null when equal' })
  delta!: unknown;

  @Field(() => [ConfigChange])
  changes!: ConfigChange[];
}
