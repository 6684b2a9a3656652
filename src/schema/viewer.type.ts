import { Field, ObjectType } from 'type-graphql';
import { Environment, Role } from '../domain/enums.js';

@ObjectType({ description: 'The caller, as its token names it, and what it may do.' })
export class Viewer {
  @Field(() => String)
  sub!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => Date, { nullable: true, description: "When the caller's token expires" })
  expiresAt!: Date | null;

  @Field(() => [String], { description: 'Actions the caller may take (e.g. version:publish, schema:approve), for a UI to offer only those; every operation still checks' })
  actions!: string[];

  @Field(() => [Environment], { description: 'Environments the caller may start deployments in' })
  deployEnvironments!: Environment[];
}
