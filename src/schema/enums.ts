import { registerEnumType } from 'type-graphql';
import {
  ChangeOp,
  Color,
  DeploymentStatus,
  DeploymentStrategy,
  Environment,
  HealthVerdict,
  InconclusiveAction,
  InstanceStatus,
  Role,
  SchemaStatus,
} from '../domain/enums.js';
import { MetricCheck, MetricOutcome } from '../domain/statistics/metric-verdict.js';

// Type metadata, like the decorators: exposes the domain enums under their API.md names.
registerEnumType(Environment, { name: 'Environment' });
registerEnumType(DeploymentStrategy, { name: 'DeploymentStrategy' });
registerEnumType(DeploymentStatus, { name: 'DeploymentStatus' });
registerEnumType(SchemaStatus, { name: 'SchemaStatus' });
registerEnumType(InstanceStatus, { name: 'InstanceStatus' });
registerEnumType(Color, { name: 'Color' });
registerEnumType(Role, { name: 'Role', description: "A token's role (docs/API.md, Tokens)" });
registerEnumType(ChangeOp, { name: 'ChangeOp' });
registerEnumType(HealthVerdict, { name: 'HealthVerdict' });
registerEnumType(InconclusiveAction, { name: 'InconclusiveAction' });
registerEnumType(MetricOutcome, { name: 'MetricOutcome' });
registerEnumType(MetricCheck, { name: 'MetricCheck' });

/** API names of the domain's metric directions and units (statistics/), whose values are lower case. */
export enum MetricDirection {
  INCREASE = 'increase',
  DECREASE = 'decrease',
}
export enum MetricUnit {
  /** A share 0..1, shown as percent; differences in points. */
  SHARE = 'share',
  MS = 'ms',
  PLAIN = 'plain',
}
registerEnumType(MetricDirection, { name: 'MetricDirection', description: 'The direction of change that counts as worse' });
registerEnumType(MetricUnit, { name: 'MetricUnit' });
