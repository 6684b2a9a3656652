import { Field, Float, Int, ObjectType } from 'type-graphql';
import { HealthVerdict } from '../domain/enums.js';
import { MetricCheck, MetricOutcome } from '../domain/statistics/metric-verdict.js';
import { InstanceMetrics } from './instance.type.js';
import { MetricDirection, MetricUnit } from './enums.js';
import { DateTimeScalar } from './scalars.js';

@ObjectType({ description: 'One metric\'s verdict in a health judgement: a rank test of the canary against the control group, or a fixed limit.' })
export class MetricVerdict {
  @Field(() => String, { description: 'errorRate, latencyP99Ms, a custom heartbeat metric or a queried metric, as the policy names it' })
  name!: string;

  @Field(() => MetricOutcome, { description: 'PASS, FAIL, or NO_DATA: too few samples in a group, or its source failed (never counted as a PASS)' })
  verdict!: MetricOutcome;

  @Field(() => MetricCheck)
  check!: MetricCheck;

  @Field(() => MetricUnit)
  unit!: string;

  @Field(() => MetricDirection, { description: 'The direction of change that counts as worse' })
  direction!: string;

  @Field(() => Boolean, { description: 'Its FAIL fails the phase whatever the others say' })
  critical!: boolean;

  @Field(() => Float, { description: 'Its share of the phase score' })
  weight!: number;

  @Field(() => String, { description: 'What the control group was: control (instances not yet updated, same window) or baseline (before the deployment)' })
  reference!: string;

  @Field(() => Int, { description: 'Samples of the updated instances since they applied' })
  canaryCount!: number;

  @Field(() => Int, { description: 'Samples of the control group' })
  controlCount!: number;

  @Field(() => Float, { nullable: true })
  canaryMedian!: number | null;

  @Field(() => Float, { nullable: true })
  controlMedian!: number | null;

  @Field(() => Float, { nullable: true, description: 'How far the canary sits from the control, in the metric\'s unit: the Hodges-Lehmann shift, or the difference of the medians for a fixed limit' })
  effect!: number | null;

  @Field(() => Float, { nullable: true, description: 'One-sided p-value in the worse direction; null for a fixed limit or NO_DATA' })
  pValue!: number | null;

  @Field(() => Float, { nullable: true, description: 'How far the effect may go in the worse direction before the metric fails, in its unit' })
  tolerance!: number | null;

  @Field(() => String, { description: 'One sentence ending in the verdict' })
  reason!: string;
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

  @Field(() => [MetricVerdict], { description: 'Each check of the policy, in its order' })
  metrics!: MetricVerdict[];

  @Field(() => Float, { nullable: true, description: 'Weighted share of the metrics with data that passed; null when none has data or a critical metric decided' })
  score!: number | null;

  @Field(() => [String], { description: 'Updated instances whose own metrics are beyond a failed metric\'s tolerance (marked DEGRADED)' })
  outliers!: string[];

  @Field(() => Boolean, { description: 'verdict is INCONCLUSIVE: too little evidence, or a marginal score' })
  insufficientData!: boolean;

  @Field(() => HealthEvidence)
  evidence!: HealthEvidence;

  @Field(() => DateTimeScalar)
  checkedAt!: Date;
}
