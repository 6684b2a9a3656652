/**
 * The API's enum values, from the one place the service defines them
 * (src/domain/enums.ts, pure TypeScript): a value added there shows up in the
 * console's choices too.
 */
import { DeploymentStatus, Environment, InstanceStatus, SchemaStatus } from '../../../src/domain/enums';

export { DeploymentStatus, Environment, InstanceStatus, SchemaStatus };

export const ENVIRONMENTS: readonly Environment[] = Object.values(Environment);
export const DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = Object.values(DeploymentStatus);
export const SCHEMA_STATUSES: readonly SchemaStatus[] = Object.values(SchemaStatus);
export const INSTANCE_STATUSES: readonly InstanceStatus[] = Object.values(InstanceStatus);
