import { Field, Float, InputType, Int } from 'type-graphql';
import { DeploymentStrategy, InconclusiveAction } from '../domain/enums.js';
import { JSONScalar } from './scalars.js';

@InputType()
export class HealthPolicyInput {
  @Field(() => Float, { nullable: true, description: 'absolute, e.g. 0.05 = +5 points over baseline' })
  maxErrorRateIncrease?: number | null;

  @Field(() => Float, { nullable: true, description: 'e.g. 50 = p99 may grow by half' })
  maxLatencyIncreasePct?: number | null;

  @Field(() => JSONScalar, { nullable: true, description: '{ "metricName": maxValue }' })
  customThresholds?: unknown;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  autoRollback?: boolean | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Heartbeats with metrics an updated instance sends after applying before it counts as evidence (1 to 20; default 2)',
  })
  minHeartbeats?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'How long a phase keeps observing past its bake for that evidence; default: 6 of the server\'s heartbeat intervals (60 s)',
  })
  evidenceTimeoutSeconds?: number | null;

  @Field(() => InconclusiveAction, {
    nullable: true,
    defaultValue: InconclusiveAction.PAUSE,
    description: 'Still INCONCLUSIVE at that bound: PAUSE for an operator (default), or PROMOTE (for fleets that report no metrics at all)',
  })
  onInconclusive?: InconclusiveAction | null;
}

@InputType()
export class CanaryOptions {
  @Field(() => [Float], { nullable: true, defaultValue: [0.1, 0.3, 0.5, 1.0] })
  phases?: number[] | null;

  @Field(() => Int, { nullable: true, defaultValue: 60 })
  bakeSeconds?: number | null;
}

@InputType()
export class RollingOptions {
  @Field(() => Int, { nullable: true })
  batchSize?: number | null;

  @Field(() => Float, { nullable: true })
  batchPercent?: number | null;

  @Field(() => Int, { nullable: true, defaultValue: 30 })
  intervalSeconds?: number | null;
}

@InputType()
export class BlueGreenOptions {
  @Field(() => Int, { nullable: true, defaultValue: 60 })
  verifySeconds?: number | null;
}

@InputType()
export class DirectOptions {
  @Field(() => Int, { nullable: true, defaultValue: 100, description: 'pushes awaiting an ack at once, up to the number of targets' })
  maxConcurrency?: number | null;
}

@InputType()
export class StartDeploymentInput {
  @Field(() => String)
  profileName!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => DeploymentStrategy)
  strategy!: DeploymentStrategy;

  @Field(() => CanaryOptions, { nullable: true })
  canary?: CanaryOptions | null;

  @Field(() => RollingOptions, { nullable: true })
  rolling?: RollingOptions | null;

  @Field(() => BlueGreenOptions, { nullable: true })
  blueGreen?: BlueGreenOptions | null;

  @Field(() => DirectOptions, { nullable: true })
  direct?: DirectOptions | null;

  @Field(() => HealthPolicyInput, { nullable: true })
  health?: HealthPolicyInput | null;

  @Field(() => Int, { nullable: true, defaultValue: 30 })
  ackTimeoutSeconds?: number | null;
}
