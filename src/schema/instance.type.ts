import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Color, Environment, InstanceStatus } from '../domain/enums.js';
import type { JsonValue } from '../domain/json.js';
import { DateTimeScalar, JSONScalar } from './scalars.js';

@ObjectType()
export class InstanceMetrics {
  @Field(() => Float, { nullable: true })
  errorRate?: number | null;

  @Field(() => Float, { nullable: true })
  latencyP99Ms?: number | null;

  @Field(() => Int, { nullable: true })
  requestCount?: number | null;

  @Field(() => JSONScalar, { nullable: true })
  custom?: Record<string, number> | null;
}

@ObjectType()
export class AppliedVersion {
  @Field(() => String)
  profileName!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => Float, { nullable: true })
  reloadMs!: number | null;

  @Field(() => DateTimeScalar)
  appliedAt!: Date;
}

@ObjectType({ description: 'The version an instance is assigned for one profile: what it is sent when it subscribes.' })
export class AssignedVersion {
  @Field(() => String)
  profileName!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => String)
  hash!: string;
}

/** A service instance; `appliedVersions` and `assignedVersions` are batched field resolvers. */
@ObjectType()
export class ServiceInstance {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  service!: string;

  @Field(() => Environment)
  environment!: Environment;

  @Field(() => String)
  host!: string;

  @Field(() => Color, { nullable: true })
  color!: Color | null;

  @Field(() => JSONScalar, { nullable: true })
  metadata!: JsonValue | null;

  @Field(() => InstanceStatus)
  status!: InstanceStatus;

  @Field(() => DateTimeScalar, { nullable: true })
  lastHeartbeatAt!: Date | null;

  @Field(() => InstanceMetrics, { nullable: true })
  metrics!: InstanceMetrics | null;
}

@ObjectType()
export class InstanceRegistration {
  @Field(() => ServiceInstance)
  instance!: ServiceInstance;

  @Field(() => String, { description: 'Role INSTANCE token for this instance' })
  token!: string;
}

@InputType()
export class RegisterInstanceInput {
  @Field(() => String)
  service!: string;

  @Field(() => Environment)
  environment!: Environment;

  @Field(() => String)
  host!: string;

  @Field(() => Color, { nullable: true })
  color?: Color | null;

  @Field(() => JSONScalar, { nullable: true })
  metadata?: JsonValue | null;
}

@InputType()
export class InstanceMetricsInput {
  @Field(() => Float, { nullable: true })
  errorRate?: number | null;

  @Field(() => Float, { nullable: true })
  latencyP99Ms?: number | null;

  @Field(() => Int, { nullable: true })
  requestCount?: number | null;

  @Field(() => JSONScalar, { nullable: true })
  custom?: Record<string, number> | null;
}
