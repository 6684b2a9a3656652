import { Field, Int, ObjectType } from 'type-graphql';
import { Color, DeploymentStrategy } from '../domain/enums.js';

@ObjectType({ description: 'One phase of a planned deployment.' })
export class PlannedPhase {
  @Field(() => Int)
  phase!: number;

  @Field(() => Int, { description: "Instances the phase updates (not counting earlier phases')" })
  instances!: number;

  @Field(() => Int, { description: 'Seconds the phase is observed after its last ack, before it is judged' })
  observeSeconds!: number;
}

@ObjectType({ description: 'What startDeployment would do with the same input now: phases and their sizes; nothing is written.' })
export class DeploymentPlan {
  @Field(() => DeploymentStrategy)
  strategy!: DeploymentStrategy;

  @Field(() => Int)
  targetCount!: number;

  @Field(() => Color, { nullable: true, description: 'Blue-green: the color the version goes to' })
  color!: Color | null;

  @Field(() => [PlannedPhase])
  phases!: PlannedPhase[];
}
