import { Field, Float, InputType, Int } from 'type-graphql';
import { InconclusiveAction } from '../domain/enums.js';
import { MetricDirection, MetricUnit } from './enums.js';
import { JSONScalar } from './scalars.js';

@InputType({ description: 'A metric a health policy compares between the updated instances and the control group' })
export class HealthMetricInput {
  @Field(() => String, { description: 'errorRate, latencyP99Ms, a custom heartbeat metric, or any name for a query' })
  name!: string;

  @Field(() => String, {
    nullable: true,
    description: 'PromQL evaluated against PROMETHEUS_URL per group; {{service}} {{environment}} {{version}} {{group}} {{instances}} expand. Unset: the instances\' heartbeats',
  })
  query?: string | null;

  @Field(() => MetricUnit, { nullable: true, description: 'How values read: SHARE (0..1, as percent), MS, PLAIN (default, but SHARE for errorRate and MS for latencyP99Ms)' })
  unit?: MetricUnit | null;

  @Field(() => MetricDirection, { nullable: true, defaultValue: MetricDirection.INCREASE })
  direction?: MetricDirection | null;

  @Field(() => Boolean, { nullable: true, description: 'Its FAIL fails the phase whatever the rest say, and without data the phase cannot pass (default false; true for errorRate)' })
  critical?: boolean | null;

  @Field(() => Float, { nullable: true, description: 'Its share of the score (0 to 1000; default 1; 0 reports it without scoring it)' })
  weight?: number | null;

  @Field(() => Float, { nullable: true, description: 'How far the canary may be worse, in the metric\'s unit, before a detected shift fails it' })
  tolerance?: number | null;

  @Field(() => Float, { nullable: true, description: 'Without tolerance: that much in percent of the control median (default 10)' })
  tolerancePct?: number | null;
}

@InputType()
export class HealthPolicyInput {
  @Field(() => Float, { nullable: true, description: 'A fixed limit besides the rank tests: error rate over the control in points as a share, e.g. 0.05 = +5 points; unset: none' })
  maxErrorRateIncrease?: number | null;

  @Field(() => Float, { nullable: true, description: 'A fixed limit besides the rank tests: p99 latency over the control in percent, e.g. 50; unset: none' })
  maxLatencyIncreasePct?: number | null;

  @Field(() => JSONScalar, { nullable: true, description: 'Fixed upper bounds of custom heartbeat metrics: { "metricName": maxValue }' })
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

  @Field(() => Float, { nullable: true, description: 'Confidence the canary is worse before a metric fails (0.5 to under 1; default 0.98)' })
  confidence?: number | null;

  @Field(() => Int, { nullable: true, description: 'Samples (heartbeats, or query steps) each group needs before a metric is judged (1 to 1000; default 10)' })
  minSamples?: number | null;

  @Field(() => Float, { nullable: true, description: 'Score at or above which a phase passes (default 0.95)' })
  passThreshold?: number | null;

  @Field(() => Float, { nullable: true, description: 'Score below which a phase fails; between it and passThreshold the phase keeps observing (default 0.75)' })
  marginalThreshold?: number | null;

  @Field(() => [HealthMetricInput], {
    nullable: true,
    description: 'Metrics to compare besides (or changing) the defaults: errorRate (critical, tolerance 0.005) and latencyP99Ms (tolerance 10 % of the control median)',
  })
  metrics?: HealthMetricInput[] | null;
}
