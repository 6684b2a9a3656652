/** Deployment, target and event rows mapped to their records. */
import type { DeploymentResult, TargetState } from '../domain/deployment.js';
import { summarizeCounts } from '../domain/deployment.js';
import {
  type DeploymentEventRecord,
  type DeploymentRecord,
  type HealthPolicy,
  INITIAL_STRATEGY_STATE,
  type StrategyOptions,
  type StrategyState,
  type TargetRecord,
} from '../domain/deployment-model.js';
import { withPolicyDefaults } from '../domain/health-policy.js';
import type { DeploymentStatus, Environment } from '../domain/enums.js';
import { healthReportFromJson } from '../domain/health-report.js';

/** A row as the driver returns it. */
export type Row = Record<string, unknown>;

function date(v: unknown): Date | null {
  return v === null || v === undefined ? null : new Date(v as string | Date);
}

export function toRecord(r: Row): DeploymentRecord {
  const result: DeploymentResult = summarizeCounts((r.target_counts ?? {}) as Partial<Record<TargetState, number>>);
  return {
    id: String(r.id),
    profileId: String(r.profile_id),
    profileName: String(r.profile_name),
    service: String(r.service),
    environment: r.environment as Environment,
    version: Number(r.version),
    previousVersion: r.previous_version === null ? null : Number(r.previous_version),
    options: r.options as StrategyOptions,
    healthPolicy: withPolicyDefaults(r.health_policy as HealthPolicy),
    ackTimeoutSeconds: Number(r.ack_timeout_seconds),
    status: r.status as DeploymentStatus,
    phase: Number(r.phase),
    phaseCount: Number(r.phase_count),
    state: { ...INITIAL_STRATEGY_STATE, ...(r.strategy_state as Partial<StrategyState> | null) },
    rollbackReason: (r.rollback_reason as string | null) ?? null,
    failureReason: (r.failure_reason as string | null) ?? null,
    startedBy: String(r.started_by),
    traceContext: (r.trace_context as string | null) ?? null,
    createdAt: date(r.created_at)!,
    updatedAt: date(r.updated_at)!,
    finishedAt: date(r.finished_at),
    result,
  };
}

export function toTarget(r: Row): TargetRecord {
  return {
    instanceId: String(r.instance_id),
    phase: Number(r.phase),
    state: r.state as TargetState,
    version: r.version === null ? null : Number(r.version),
    pushedAt: date(r.pushed_at),
    deadlineAt: date(r.deadline_at),
    ackedAt: date(r.acked_at),
    reloadMs: r.reload_ms === null ? null : Number(r.reload_ms),
    error: (r.error as string | null) ?? null,
  };
}

export function toEvent(r: Row): DeploymentEventRecord {
  return {
    deploymentId: String(r.deployment_id),
    type: r.type as DeploymentEventRecord['type'],
    status: r.status as DeploymentStatus,
    phase: Number(r.phase),
    progress: Number(r.progress),
    message: (r.message as string | null) ?? null,
    health: r.health === null || r.health === undefined ? null : healthReportFromJson(r.health),
    at: date(r.at)!,
  };
}
