import type { DeploymentRecord } from '../domain/deployment-model.js';
import { SchemaStatus } from '../domain/enums.js';
import type { Connection, ProfileRecord, SchemaRecord, VersionRecord } from '../domain/records.js';
import type { InstanceRecord } from '../registry/instance-registry.js';
import type { VersionDiffResult } from '../services/version.service.js';
import { ConfigProfile, type ConfigProfileConnection } from './profile.type.js';
import { ConfigVersion, type ConfigVersionConnection, type VersionDiff } from './version.type.js';
import { Deployment, type DeploymentConnection } from './deployment.type.js';
import { ServiceInstance } from './instance.type.js';
import { ConfigSchema } from './schema.type.js';

export function toConfigProfile(r: ProfileRecord): ConfigProfile {
  return Object.assign(new ConfigProfile(), {
    id: r.id,
    name: r.name,
    service: r.service,
    environment: r.environment,
    description: r.description,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    lastVersion: r.lastVersion,
    activeVersion: r.activeVersion,
    schemaId: r.schemaId,
  });
}

export function toConfigVersion(r: VersionRecord): ConfigVersion {
  return Object.assign(new ConfigVersion(), {
    id: r.id,
    profileName: r.profileName,
    version: r.version,
    data: r.data,
    hash: r.hash,
    description: r.description,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
  });
}

function mapConnection<R, G>(c: Connection<R>, map: (r: R) => G) {
  return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: map(e.node) })) };
}

export const toProfileConnection = (c: Connection<ProfileRecord>): ConfigProfileConnection =>
  mapConnection(c, toConfigProfile);

export const toVersionConnection = (c: Connection<VersionRecord>): ConfigVersionConnection =>
  mapConnection(c, toConfigVersion);

export const toVersionDiff = (d: VersionDiffResult): VersionDiff => ({ ...d });

export function toServiceInstance(r: InstanceRecord): ServiceInstance {
  return Object.assign(new ServiceInstance(), {
    id: r.id,
    service: r.service,
    environment: r.environment,
    host: r.host,
    color: r.color,
    metadata: r.metadata,
    status: r.status,
    lastHeartbeatAt: r.lastHeartbeatAt,
    metrics: r.metrics,
  });
}

export function toDeployment(r: DeploymentRecord): Deployment {
  return Object.assign(new Deployment(), {
    id: r.id,
    profileName: r.profileName,
    version: r.version,
    previousVersion: r.previousVersion,
    strategy: r.options.strategy,
    status: r.status,
    phase: r.phase,
    phaseCount: r.phaseCount,
    progress: r.result.progress,
    rollbackReason: r.rollbackReason,
    failureReason: r.failureReason,
    startedBy: r.startedBy,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
  });
}

export const toDeploymentConnection = (c: Connection<DeploymentRecord>): DeploymentConnection => mapConnection(c, toDeployment);

export function toConfigSchema(r: SchemaRecord): ConfigSchema {
  return Object.assign(new ConfigSchema(), {
    id: r.id,
    name: r.name,
    schemaVersion: r.schemaVersion,
    schema: r.schema,
    status: r.status,
    description: r.description,
    createdBy: r.createdBy,
    approvedBy: r.status === SchemaStatus.APPROVED ? r.decidedBy : null,
    rejectedBy: r.status === SchemaStatus.REJECTED ? r.decidedBy : null,
    submittedBy: r.submittedBy,
    submittedAt: r.submittedAt,
    decidedAt: r.decidedAt,
    decisionComment: r.decisionComment,
    compatibility: r.compatibility,
    createdAt: r.createdAt,
  });
}
