import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { DeploymentStatus, DeploymentStrategy } from '../domain/enums.js';
import { HealthReport } from './health.type.js';
import { connectionOf } from './connection.type.js';
import { DateTimeScalar } from './scalars.js';

/** A deployment's target; `instanceStatus` (from the instance registry) is a field resolver: resolvers/deployment-target.resolver.ts. */
@ObjectType()
export class DeploymentTarget {
  @Field(() => ID)
  instanceId!: string;

  @Field(() => Int)
  phase!: number;

  @Field(() => String, { description: 'PENDING, PUSHED, APPLIED, FAILED, TIMED_OUT (connected, no ack in time), LEFT (gone before it acked: does not fail the deployment) or ROLLED_BACK' })
  state!: string;

  @Field(() => Float, { nullable: true })
  reloadMs!: number | null;

  @Field(() => String, { nullable: true })
  error!: string | null;
}

@ObjectType()
export class DeploymentEvent {
  @Field(() => ID)
  deploymentId!: string;

  @Field(() => String, {
    description:
      'STARTED PHASE_STARTED PHASE_COMPLETED HEALTH_CHECKED HEALTH_INCONCLUSIVE PAUSED RESUMED ROLLBACK_STARTED ROLLED_BACK COMPLETED FAILED ' +
      'CANCELLED TRAFFIC_SWITCHED, ' +
      'and CURRENT_STATE as the first message of a subscription',
  })
  type!: string;

  @Field(() => DeploymentStatus)
  status!: DeploymentStatus;

  @Field(() => Int)
  phase!: number;

  @Field(() => Float)
  progress!: number;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => HealthReport, { nullable: true, description: 'The verdict, on HEALTH_CHECKED and on the events it caused' })
  health!: HealthReport | null;

  @Field(() => DateTimeScalar)
  at!: Date;
}

/** A deployment; `targets` and `events` are field resolvers. */
@ObjectType()
export class Deployment {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  profileName!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => Int, { nullable: true })
  previousVersion!: number | null;

  @Field(() => DeploymentStrategy)
  strategy!: DeploymentStrategy;

  @Field(() => DeploymentStatus)
  status!: DeploymentStatus;

  @Field(() => Int, { description: '0 before the first phase' })
  phase!: number;

  @Field(() => Int)
  phaseCount!: number;

  @Field(() => Float, { description: '0..1, share of target instances updated' })
  progress!: number;

  @Field(() => String, { nullable: true })
  rollbackReason!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it FAILED, with per-instance reasons' })
  failureReason!: string | null;

  @Field(() => String)
  startedBy!: string;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  finishedAt!: Date | null;
}

export const DeploymentConnection = connectionOf(Deployment, 'Deployment');
export type DeploymentConnection = InstanceType<typeof DeploymentConnection>;
