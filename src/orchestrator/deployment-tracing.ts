import { type Attributes, type Span, SpanStatusCode } from '@opentelemetry/api';
import type { DeploymentRecord } from '../domain/deployment-model.js';
import type { HealthReport } from '../domain/health.js';
import { HealthVerdict } from '../domain/enums.js';
import { contextOf, traceparentOf, tracer } from '../telemetry/tracing.js';

/** Most instance ids listed on a push span. */
const MAX_IDS_ON_SPAN = 100;

/**
 * The spans of a running deployment, under the context stored with it (so the
 * work of any replica joins the trace of the mutation that started it):
 * deployment → phase → push → (the instance's apply → its ack), plus health
 * checks and the rollback. A phase or rollback span stays open on the replica
 * that started it until it ends there; its traceparent is persisted, so pushes
 * made after a takeover still hang under it.
 */
export class DeploymentTracing {
  private readonly open = new Map<string, Span>();

  /** Starts the span of a phase; returns its traceparent, to persist. */
  phaseStarted(d: DeploymentRecord, phase: number): string | null {
    return this.start(`${d.id}:phase`, 'hotswap.deployment.phase', d.traceContext, {
      ...attributesOf(d),
      'hotswap.phase': phase,
      'hotswap.phase_count': d.phaseCount,
    });
  }

  phaseEnded(d: DeploymentRecord, attributes: Attributes): void {
    this.end(`${d.id}:phase`, attributes);
  }

  /** Starts the span of a rollback; returns its traceparent, to persist. */
  rollbackStarted(d: DeploymentRecord, reason: string): string | null {
    this.end(`${d.id}:phase`, { 'hotswap.phase.outcome': 'rolled back' });
    return this.start(`${d.id}:rollback`, 'hotswap.deployment.rollback', d.traceContext, {
      ...attributesOf(d),
      'hotswap.rollback.reason': reason,
      'hotswap.previous_version': d.previousVersion ?? -1,
    });
  }

  rollbackEnded(d: DeploymentRecord, status: string): void {
    this.end(`${d.id}:rollback`, { 'hotswap.deployment.status': status }, status === 'FAILED');
  }

  /** A push of `version` to `instanceIds`; returns the traceparent the instances continue. */
  push(d: DeploymentRecord, parent: string | null, version: number, instanceIds: readonly string[]): string | null {
    const span = tracer().startSpan(
      'hotswap.push',
      {
        attributes: {
          ...attributesOf(d),
          'hotswap.version': version,
          'hotswap.push.instances': instanceIds.length,
          'hotswap.push.instance_ids': instanceIds.slice(0, MAX_IDS_ON_SPAN),
        },
      },
      contextOf(parent ?? d.traceContext),
    );
    const traceparent = traceparentOf(span);
    span.end();
    return traceparent;
  }

  healthChecked(d: DeploymentRecord, parent: string | null, report: HealthReport, periodic: boolean): void {
    const span = tracer().startSpan(
      'hotswap.health_check',
      {
        attributes: {
          ...attributesOf(d),
          'hotswap.phase': d.phase,
          'hotswap.health.healthy': report.healthy,
          'hotswap.health.verdict': report.verdict,
          'hotswap.health.periodic': periodic,
          'hotswap.health.insufficient_data': report.insufficientData,
          'hotswap.health.updated_instances': report.current.instances,
          'hotswap.health.reasons': report.reasons,
        },
      },
      contextOf(parent ?? d.traceContext),
    );
    if (report.verdict === HealthVerdict.FAIL) span.setStatus({ code: SpanStatusCode.ERROR, message: report.reasons.join('; ') });
    span.end();
  }

  /** Forgets a finished deployment's open spans (ending them). */
  finished(d: DeploymentRecord, status: string): void {
    this.end(`${d.id}:phase`, { 'hotswap.deployment.status': status }, status === 'FAILED');
    this.end(`${d.id}:rollback`, { 'hotswap.deployment.status': status }, status === 'FAILED');
  }

  /** Ends every open span (this replica stops running its deployments): another replica carries on under their persisted context. */
  handOver(): void {
    for (const key of [...this.open.keys()]) this.end(key, { 'hotswap.handed_over': true });
  }

  private start(key: string, name: string, parent: string | null, attributes: Attributes): string | null {
    this.end(key, {});
    const span = tracer().startSpan(name, { attributes }, contextOf(parent));
    this.open.set(key, span);
    return traceparentOf(span);
  }

  private end(key: string, attributes: Attributes, failed = false): void {
    const span = this.open.get(key);
    if (!span) return;
    this.open.delete(key);
    span.setAttributes(attributes);
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}

function attributesOf(d: DeploymentRecord): Attributes {
  return {
    'hotswap.deployment.id': d.id,
    'hotswap.profile': d.profileName,
    'hotswap.service': d.service,
    'hotswap.environment': d.environment,
    'hotswap.strategy': d.options.strategy,
  };
}
