import { Field, Float, InputType, Int } from 'type-graphql';
import { DeploymentStrategy } from '../domain/enums.js';
import { HealthPolicyInput } from './health.input.js';

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
