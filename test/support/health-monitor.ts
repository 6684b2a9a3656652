import { expect } from 'vitest';
import { summarizeTargets, TargetState } from '../../src/domain/deployment.js';
import { type DeploymentRecord, INITIAL_STRATEGY_STATE, type TargetRecord,  } from '../../src/domain/deployment-model.js';
import { type HealthPolicy, withPolicyDefaults } from '../../src/domain/health-policy.js';
import { DeploymentStatus, DeploymentStrategy, Environment } from '../../src/domain/enums.js';
import type { HealthSnapshot } from '../../src/domain/health.js';
import type { InstanceMetrics } from '../../src/domain/instance.js';
import type { InstanceRegistry } from '../../src/registry/instance-registry.js';

/** Deployments, targets and heartbeats around one clock, for the HealthMonitor unit tests (test/unit/orchestrator/health-monitor*.test.ts). */

export const T0 = Date.parse('2025-03-01T12:00:00Z');
export const minutes = (m: number): Date => new Date(T0 + m * 60_000);
export const seconds = (s: number): Date => new Date(T0 + s * 1000);
/** "Now" of every check: 60 minutes after T0. */
export const NOW = minutes(60);
/** The deployment started 2 minutes before NOW; its updated targets acked 1 minute before NOW. */
export const CREATED = minutes(58);
export const ACKED = minutes(59);

/**
 * One heartbeat since the ack is evidence, and 5 samples a group are enough for
 * a rank test here: these tests are about which samples are compared (the
 * defaults have their own tests).
 */
export const POLICY: HealthPolicy = withPolicyDefaults({ autoRollback: true, minHeartbeats: 1, minSamples: 5 });

export function snapshot(partial: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return { errorRate: 0.01, latencyP99Ms: 200, requestCount: 1000, custom: null, instances: 4, ...partial };
}

export function deployment(overrides: Partial<DeploymentRecord> = {}, baseline: HealthSnapshot | null = snapshot()): DeploymentRecord {
  return {
    id: 'dep-h',
    profileId: 'prof-h',
    profileName: 'checkout-prod',
    service: 'checkout',
    environment: Environment.PRODUCTION,
    version: 2,
    previousVersion: 1,
    options: { strategy: DeploymentStrategy.CANARY, canary: { phases: [0.5, 1], bakeSeconds: 1 } },
    healthPolicy: POLICY,
    ackTimeoutSeconds: 5,
    status: DeploymentStatus.IN_PROGRESS,
    phase: 1,
    phaseCount: 2,
    state: { ...INITIAL_STRATEGY_STATE, baseline },
    rollbackReason: null,
    failureReason: null,
    startedBy: 'user-1',
    traceContext: null,
    createdAt: CREATED,
    updatedAt: CREATED,
    finishedAt: null,
    result: summarizeTargets([]),
    ...overrides,
  };
}

export function target(instanceId: string, state: TargetState, overrides: Partial<TargetRecord> = {}): TargetRecord {
  const pushed = state !== TargetState.PENDING;
  return {
    instanceId,
    phase: 1,
    state,
    version: pushed ? 2 : null,
    pushedAt: pushed ? minutes(58.5) : null,
    deadlineAt: pushed ? minutes(58.6) : null,
    ackedAt: state === TargetState.APPLIED ? ACKED : null,
    reloadMs: state === TargetState.APPLIED ? 3 : null,
    error: state === TargetState.FAILED ? 'rejected' : null,
    ...overrides,
  };
}

export const applied = (id: string, overrides: Partial<TargetRecord> = {}) => target(id, TargetState.APPLIED, overrides);
export const pending = (id: string) => target(id, TargetState.PENDING);

/** `count` heartbeats each, 3 s apart from `from`: enough samples for a rank test (POLICY needs 5). */
export async function heartbeatsFrom(registry: InstanceRegistry, from: Date, count: number, metricsById: Record<string, InstanceMetrics>): Promise<void> {
  for (let i = 0; i < count; i += 1) await heartbeats(registry, new Date(from.getTime() + i * 3000), metricsById);
}

/** Registers the instances (at T0) if needed and records one heartbeat each at `at`. */
export async function heartbeats(registry: InstanceRegistry, at: Date, metricsById: Record<string, InstanceMetrics>): Promise<void> {
  for (const [id, metrics] of Object.entries(metricsById)) {
    if ((await registry.get(id)) === null) {
      await registry.register({
        id,
        service: 'checkout',
        environment: Environment.PRODUCTION,
        host: `${id}.local`,
        color: null,
        metadata: null,
        registeredAt: new Date(T0),
      });
    }
    expect(await registry.heartbeat(id, at, metrics)).not.toBeNull();
  }
}
