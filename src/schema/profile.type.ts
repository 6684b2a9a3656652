import { Field, ID, Int, ObjectType } from 'type-graphql';
import { Environment } from '../domain/enums.js';
import { PageInfo } from './page-info.type.js';
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

@ObjectType()
export class ConfigProfileEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => ConfigProfile)
  node!: ConfigProfile;
}

@ObjectType()
export class ConfigProfileConnection {
  @Field(() => [ConfigProfileEdge])
  edges!: ConfigProfileEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}
