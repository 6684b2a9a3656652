import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { InstanceMetrics } from './instance.type.js';
import { DeploymentStatus, DeploymentStrategy, HealthVerdict } from '../domain/enums.js';
import { connectionOf } from './connection.type.js';
import { DateTimeScalar } from './scalars.js';

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

@ObjectType({ description: 'How much reporting there was behind a health verdict.' })
export class HealthEvidence {
  @Field(() => Int, { description: 'Instances that applied the new version' })
  updated!: number;

  @Field(() => Int, { description: 'Of them, those that sent minHeartbeats heartbeats with metrics since applying' })
  reporting!: number;

  @Field(() => Int, { description: 'How many must report for a verdict: half of the updated instances, rounded up, at least one' })
  required!: number;

  @Field(() => Int)
  minHeartbeats!: number;
}

@ObjectType({ description: 'A verdict on the health of the instances a deployment updated.' })
export class HealthReport {
  @Field(() => HealthVerdict, { description: 'PASS, FAIL, or INCONCLUSIVE: too little evidence to say (never counted healthy)' })
  verdict!: HealthVerdict;

  @Field(() => Boolean, { description: 'verdict is PASS' })
  healthy!: boolean;

  @Field(() => InstanceMetrics, { nullable: true, description: 'The targets\' metrics when the deployment started' })
  baseline!: InstanceMetrics | null;

  @Field(() => InstanceMetrics, { nullable: true, description: 'The updated instances\' metrics since they applied' })
  current!: InstanceMetrics | null;

  @Field(() => [String], { description: 'Why it FAILed or is INCONCLUSIVE; empty when it passed' })
  reasons!: string[];

  @Field(() => Boolean, { description: 'verdict is INCONCLUSIVE: too little evidence, or nothing the policy checks could be compared' })
  insufficientData!: boolean;

  @Field(() => HealthEvidence)
  evidence!: HealthEvidence;

  @Field(() => DateTimeScalar)
  checkedAt!: Date;
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
