import { Field, ID, ObjectType } from 'type-graphql';
import { Environment } from '../domain/enums.js';
import { connectionOf } from './connection.type.js';
import { DateTimeScalar } from './scalars.js';

/**
 * A config profile. `latestVersion`, `activeVersion` and `versions` are field
 * resolvers (ProfileResolver), as is `schema`; `lastVersion`, `activeVersion` and `schemaId` carry what they need.
 */
@ObjectType()
export class ConfigProfile {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  service!: string;

  @Field(() => Environment)
  environment!: Environment;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  updatedAt!: Date;

  lastVersion!: number;
  activeVersion!: number | null;
  schemaId!: string | null;
}

export const ConfigProfileConnection = connectionOf(ConfigProfile, 'ConfigProfile');
export type ConfigProfileConnection = InstanceType<typeof ConfigProfileConnection>;
