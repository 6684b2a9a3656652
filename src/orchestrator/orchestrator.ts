import type { Logger } from 'pino';
import { type PhaseDecision } from '../domain/decision.js';
import { summarizeCounts, TargetState } from '../domain/deployment.js';
import { type DeploymentEventRecord, type DeploymentRecord, EventType } from '../domain/deployment-model.js';
import { DeploymentStatus, InstanceStatus } from '../domain/enums.js';
import type { JsonObject } from '../domain/json.js';
import type { ConfigPushHub } from '../delivery/push-hub.js';
import type { PushMessage } from '../delivery/push-message.js';
import type { InstanceRegistry } from '../registry/instance-registry.js';
import type { Database, Repositories } from '../store/database.js';
import type { DeploymentEventPublisher } from './events.js';
import { strategyFor } from './strategies/select-strategy.js';

/** The lease on a deployment is gone: another replica may be running it. */
export class LeaseLostError extends Error {
  constructor(deploymentId: string) {
    super(`lost the lease on deployment ${deploymentId}`);
  }
}

/** What the runner does after a step. */
export interface StepResult {
  /** The deployment reached a terminal (or paused) state: stop running it. */
  done: boolean;
  /** Run the next step after at most this long (sooner when woken by an ack). */
  waitMs: number;
}

interface VersionPayload {
  hash: string;
  data: JsonObject;
}

const IDLE_WAIT_MS = 1000;
/**
 * Pushes not answered after this long are sent again (instances skip a version
 * they already run): a push published while the pub/sub link was down, or
 * lost with a replica, still arrives.
 */
const REPUSH_AFTER_MS = 5000;
/** How often a running deployment looks for such pushes. */
const REPUSH_CHECK_MS = 1000;
/**
 * The first pushes of a phase go out in a chunk of at most this many, published
 * as soon as it is committed, so the first instances receive while the rest of
 * a large fleet is written in the next step (all of it at once: acks from the
 * first chunk would otherwise compete with every further chunk).
 */
const FIRST_CHUNK = 1000;

/**
 * Advances deployments one step at a time under a lease. Each step is one
 * transaction that checks the lease, writes the new state and its events, and
 * only after the commit publishes pushes and events (persist, then publish).
 */
export class Orchestrator {
  /** Version content per deployment, read once (versions are immutable). */
  private readonly payloads = new Map<string, VersionPayload>();
  /** When each running deployment last looked for pushes to send again. */
  private readonly lastRepushCheck = new Map<string, number>();

  constructor(
    private readonly db: Database,
    private readonly hub: ConfigPushHub,
    private readonly events: DeploymentEventPublisher,
    private readonly registry: InstanceRegistry,
    private readonly logger: Logger,
  ) {}

  /** Re-sends pushes still awaiting an ack: after a takeover, the pushes of the replica that died may never have gone out. */
  async resume(deploymentId: string, owner: string): Promise<void> {
    const pushes = await this.db.transaction(async (r) => {
      const d = await r.deployments.lockLeased(deploymentId, owner);
      if (!d) throw new LeaseLostError(deploymentId);
      return this.awaitingPushes(r, d, 0);
    });
    for (const p of pushes) await this.hub.publish(p);
    if (pushes.length > 0) this.logger.info({ deploymentId, pushes: pushes.length }, 'resumed a deployment: re-sent unacknowledged pushes');
  }

  /**
   * One push message per version for the targets pushed at least `olderThanMs`
   * ago that have not answered; their send time is renewed, so each target is
   * sent again every REPUSH_AFTER_MS until it answers or times out.
   */
  private async awaitingPushes(r: Repositories, d: DeploymentRecord, olderThanMs: number): Promise<PushMessage[]> {
    const awaiting = await r.targets.awaitingAck(d.id, olderThanMs);
    await r.targets.markSent(d.id, awaiting.map((t) => t.instanceId));
    const byVersion = new Map<number, string[]>();
    for (const t of awaiting) {
      const ids = byVersion.get(t.version) ?? [];
      ids.push(t.instanceId);
      byVersion.set(t.version, ids);
    }
    return Promise.all([...byVersion].map(([version, ids]) => this.pushMessage(r, d, version, ids)));
  }

  async step(deploymentId: string, owner: string): Promise<StepResult> {
    const pushes: PushMessage[] = [];
    const events: DeploymentEventRecord[] = [];
    const result = await this.db.transaction(async (r): Promise<StepResult> => {
      const locked = await r.deployments.lockLeased(deploymentId, owner);
      if (!locked) throw new LeaseLostError(deploymentId);
      let d: DeploymentRecord = locked;
      const now = new Date();
      const emit = async (type: EventType, patch: Partial<DeploymentRecord>, message: string | null) => {
        const counts = await r.targets.counts(d.id, null);
        const event: DeploymentEventRecord = {
          deploymentId: d.id,
          type,
          status: patch.status ?? d.status,
          phase: patch.phase ?? d.phase,
          progress: summarizeCounts(counts).progress,
          message,
          health: null,
          at: now,
        };
        await r.deployments.insertEvent(event);
        events.push(event);
      };

      switch (d.status) {
        case DeploymentStatus.PENDING: {
          await r.deployments.update(d.id, { status: DeploymentStatus.IN_PROGRESS, phase: 1 }, now);
          await emit(EventType.PHASE_STARTED, { status: DeploymentStatus.IN_PROGRESS, phase: 1 }, `phase 1 of ${d.phaseCount} started`);
          // Push in the same step: no second round trip before the first instances receive.
          d = { ...d, status: DeploymentStatus.IN_PROGRESS, phase: 1 };
          return this.advancePhase(r, d, now, pushes, emit);
        }
        case DeploymentStatus.IN_PROGRESS:
          return this.advancePhase(r, d, now, pushes, emit);
        default:
          return { done: true, waitMs: 0 };
      }
    });
    for (const p of pushes) await this.hub.publish(p);
    await this.events.publish(events);
    if (result.done) this.forget(deploymentId);
    return result;
  }

  private async advancePhase(
    r: Repositories,
    d: DeploymentRecord,
    now: Date,
    pushes: PushMessage[],
    emit: (type: EventType, patch: Partial<DeploymentRecord>, message: string | null) => Promise<void>,
  ): Promise<StepResult> {
    const strategy = strategyFor(d.options.strategy);
    await r.targets.timeOutExpired(d.id, d.ackTimeoutSeconds);
    const phaseCounts = await r.targets.counts(d.id, d.phase);
    const counts = summarizeCounts(phaseCounts);
    const inFlight = phaseCounts[TargetState.PUSHED] ?? 0;
    const notPushed = counts.pending - inFlight;
    const room = strategy.maxInFlight(d.options, counts.total) - inFlight;
    if (inFlight > 0 && Date.now() - (this.lastRepushCheck.get(d.id) ?? 0) > REPUSH_CHECK_MS) {
      this.lastRepushCheck.set(d.id, Date.now());
      pushes.push(...(await this.awaitingPushes(r, d, REPUSH_AFTER_MS)));
    }
    let morePushes = false;
    if (notPushed > 0 && room > 0) {
      const first = notPushed === counts.total;
      const ids = await r.targets.pendingInPhase(d.id, d.phase, first ? Math.min(room, FIRST_CHUNK) : room);
      await r.targets.markPushed(d.id, d.profileId, ids, d.version, d.ackTimeoutSeconds);
      pushes.push(await this.pushMessage(r, d, d.version, ids));
      morePushes = ids.length < notPushed && room > ids.length;
    }
    if (morePushes) return { done: false, waitMs: 0 };
    if (counts.pending > 0) {
      const ms = await r.targets.msToNextDeadline(d.id);
      return { done: false, waitMs: Math.min(ms ?? IDLE_WAIT_MS, IDLE_WAIT_MS) };
    }

    const decision: PhaseDecision = strategy.afterPhase(
      { phase: d.phase, phaseCount: d.phaseCount, phaseResult: counts, failures: await r.targets.failures(d.id, 5) },
      d.options,
    );
    await emit(EventType.PHASE_COMPLETED, {}, `phase ${d.phase} of ${d.phaseCount}: ${counts.applied} of ${counts.total} applied`);
    switch (decision.kind) {
      case 'next-phase': {
        const phase = d.phase + 1;
        await r.deployments.update(d.id, { phase }, now);
        await emit(EventType.PHASE_STARTED, { phase }, `phase ${phase} of ${d.phaseCount} started`);
        return { done: false, waitMs: 0 };
      }
      case 'complete': {
        await r.deployments.update(d.id, { status: DeploymentStatus.COMPLETED, finished: true }, now);
        await r.profiles.setActiveVersion(d.profileId, d.version);
        const late = await this.lateJoiners(r, d);
        if (late.length > 0) pushes.push(await this.pushMessage(r, d, d.version, late));
        await emit(
          EventType.COMPLETED,
          { status: DeploymentStatus.COMPLETED },
          `version ${d.version} is active${late.length > 0 ? `; sent to ${late.length} instances that joined meanwhile` : ''}`,
        );
        return { done: true, waitMs: 0 };
      }
      case 'fail':
        await r.deployments.update(d.id, { status: DeploymentStatus.FAILED, failureReason: decision.reason, finished: true }, now);
        await emit(EventType.FAILED, { status: DeploymentStatus.FAILED }, decision.reason);
        return { done: true, waitMs: 0 };
    }
  }

  /**
   * Instances of the service that registered after the deployment started: they
   * were sent the old active version on subscribe and are not targets. Once the
   * deployment completes they get the new one too (recorded as sent on
   * subscribe, so their ack is accepted and no deployment pushes are overridden).
   */
  private async lateJoiners(r: Repositories, d: DeploymentRecord): Promise<string[]> {
    const targets = new Set((await r.deployments.targets(d.id)).map((t) => t.instanceId));
    const live = await this.registry.list({ service: d.service, environment: d.environment });
    const late = live.filter((i) => i.status !== InstanceStatus.STALE && !targets.has(i.id)).map((i) => i.id);
    for (const id of late) await r.targets.recordSentOnSubscribe(id, d.profileId, d.version);
    return late;
  }

  private forget(deploymentId: string): void {
    this.lastRepushCheck.delete(deploymentId);
    for (const key of this.payloads.keys()) if (key.startsWith(`${deploymentId}:`)) this.payloads.delete(key);
  }

  private async pushMessage(r: Repositories, d: DeploymentRecord, version: number, targets: string[]): Promise<PushMessage> {
    const key = `${d.id}:${version}`;
    let payload = this.payloads.get(key);
    if (!payload) {
      const v = await r.versions.get({ id: d.profileId, name: d.profileName }, version);
      if (!v) throw new Error(`version ${version} of ${d.profileName} is gone`);
      payload = { hash: v.hash, data: v.data };
      this.payloads.set(key, payload);
    }
    return {
      service: d.service,
      environment: d.environment,
      targets,
      update: { profileName: d.profileName, version, ...payload, deploymentId: d.id, traceparent: d.traceContext },
    };
  }
}
