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
  SchemaStatus,
} from '../domain/enums.js';

// Type metadata, like the decorators: exposes the domain enums under their API.md names.
registerEnumType(Environment, { name: 'Environment' });
registerEnumType(DeploymentStrategy, { name: 'DeploymentStrategy' });
registerEnumType(DeploymentStatus, { name: 'DeploymentStatus' });
registerEnumType(SchemaStatus, { name: 'SchemaStatus' });
registerEnumType(InstanceStatus, { name: 'InstanceStatus' });
registerEnumType(Color, { name: 'Color' });
registerEnumType(ChangeOp, { name: 'ChangeOp' });
registerEnumType(HealthVerdict, { name: 'HealthVerdict' });
registerEnumType(InconclusiveAction, { name: 'InconclusiveAction' });
