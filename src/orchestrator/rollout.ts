import type { PhaseDecision } from '../domain/decision.js';
import { summarizeCounts, TargetState } from '../domain/deployment.js';
import { EventType } from '../domain/deployment-model.js';
import { DeploymentStatus, HealthVerdict } from '../domain/enums.js';
import { type HealthReport, summarizeHealth } from '../domain/health.js';
import { rollbackStart } from '../domain/rollback.js';
import { awaitAcks, awaitingNewPushes, expireAcks } from './acks.js';
import { sendToLateJoiners } from './late-joiners.js';
import type { PlannedTargets, Step, StepResult } from './step.js';

/** A paused deployment's runner looks again this often (resume and rollback wake it at once). */
export const PAUSED_WAIT_MS = 5000;

const DONE: StepResult = { done: true, waitMs: 0 };
const AGAIN: StepResult = { done: false, waitMs: 0 };

/**
 * PENDING: the first phase starts, and its first pushes go out in the same
 * step. `planned`: the targets of a deployment created in this transaction,
 * written here with those first pushes.
 */
export async function startRollout(s: Step, repushDue: boolean, planned?: PlannedTargets): Promise<StepResult> {
  const phaseTrace = s.deps.tracing.phaseStarted({ ...s.d, phase: 1 }, 1);
  await s.update({ status: DeploymentStatus.IN_PROGRESS, phase: 1, state: { ...s.d.state, phaseTrace } });
  if (planned) await writeTargets(s, planned);
  await s.emit(EventType.PHASE_STARTED, `phase 1 of ${s.d.phaseCount} started`);
  // Pushes written with the targets fill the room and all await their acks: what advanceRollout would find.
  return planned ? awaitingNewPushes() : advanceRollout(s, repushDue);
}

/**
 * Writes a new deployment's targets with its first pushes (phase 1, as many as
 * may await an ack, the first by id) already PUSHED: one pass over the targets
 * instead of an insert and then an update of the same rows.
 */
async function writeTargets(s: Step, planned: PlannedTargets): Promise<void> {
  const { d, strategy } = s;
  const firstPhase = planned.filter((t) => t.phase === 1).map((t) => t.instanceId).sort();
  const instanceIds = firstPhase.slice(0, strategy.maxInFlight(d.options, firstPhase.length));
  await s.r.targets.insert(d.id, planned, { profileId: d.profileId, instanceIds, version: d.version, ackTimeoutSeconds: d.ackTimeoutSeconds });
  await s.push(d.version, instanceIds);
}

/**
 * IN_PROGRESS: push the phase's targets (at most the strategy's in-flight
 * limit awaiting an ack), wait for their answers, watch health for the
 * strategy's observation time, then judge the phase.
 */
export async function advanceRollout(s: Step, repushDue: boolean): Promise<StepResult> {
  const { r, d, strategy } = s;
  if (d.state.stage === 'OBSERVE') {
    const left = Date.parse(d.state.observeUntil ?? '') - s.now.getTime();
    return left > 0 ? { done: false, waitMs: left } : judge(s);
  }
  await expireAcks(s);
  const phaseCounts = await r.targets.counts(d.id, d.phase);
  const counts = summarizeCounts(phaseCounts);
  const inFlight = phaseCounts[TargetState.PUSHED] ?? 0;
  const notPushed = counts.pending - inFlight;
  const room = strategy.maxInFlight(d.options, counts.total) - inFlight;
  if (notPushed > 0 && room > 0) {
    // All the room at once: one push message and one burst of socket writes, before any of its acks is read.
    const ids = await r.targets.pendingInPhase(d.id, d.phase, room);
    await r.targets.markPushed(d.id, d.profileId, ids, d.version, d.ackTimeoutSeconds);
    await s.push(d.version, ids);
  }
  const waiting = await awaitAcks(s, d.phase, repushDue && inFlight > 0);
  if (waiting) return waiting;
  const answered = summarizeCounts(await r.targets.counts(d.id, d.phase));
  // Targets left unpushed for want of room get it on the next step.
  if (answered.pending > 0) return AGAIN;

  const message = `phase ${d.phase} of ${d.phaseCount}: ${answered.applied} of ${answered.total} applied`;
  const observeSeconds = answered.failed + answered.timedOut > 0 ? 0 : strategy.observeSeconds(d.options, d.phase, d.phaseCount);
  // Persisted even for no wait, so a phase paused when judged is not completed again on resume.
  await s.setState({ stage: 'OBSERVE', observeUntil: new Date(s.now.getTime() + observeSeconds * 1000).toISOString() });
  if (observeSeconds > 0) {
    await s.emit(EventType.PHASE_COMPLETED, `${message}; ${strategy.observation} ${observeSeconds} s before judging health`);
    return { done: false, waitMs: observeSeconds * 1000 };
  }
  await s.emit(EventType.PHASE_COMPLETED, message);
  return judge(s);
}

/** While a phase's health is INCONCLUSIVE within its evidence bound, it looks again this often. */
export const EVIDENCE_POLL_MS = 1000;

/**
 * Every target of the phase answered and its observation time is over: health
 * check, then the strategy decides. An INCONCLUSIVE verdict before the
 * evidence bound decides nothing and records nothing: the phase looks again.
 */
async function judge(s: Step): Promise<StepResult> {
  const { r, d, strategy } = s;
  const phaseResult = summarizeCounts(await r.targets.counts(d.id, d.phase));
  let health: HealthReport | null = null;
  if (strategy.judgesHealth && phaseResult.failed + phaseResult.timedOut === 0) {
    health = await s.deps.health.check(d, await r.deployments.targets(d.id), s.now);
  }
  const untilBound = evidenceBound(s) - s.now.getTime();
  const decision = strategy.afterPhase(
    {
      phase: d.phase,
      phaseCount: d.phaseCount,
      phaseResult,
      failures: await r.targets.failures(d.id, 5),
      health,
      healthOverridden: d.state.healthOverridden,
      evidenceDue: untilBound <= 0,
    },
    d.options,
    d.healthPolicy,
  );
  if (decision.kind === 'observe') return { done: false, waitMs: Math.max(1, Math.min(EVIDENCE_POLL_MS, untilBound)) };
  if (health !== null) {
    s.deps.tracing.healthChecked(d, d.state.phaseTrace, health, false);
    const inconclusive = decision.kind === 'pause' && decision.inconclusive === true;
    const summary = `phase ${d.phase} of ${d.phaseCount}: ${summarizeHealth(health)}`;
    const promoted = health.verdict === HealthVerdict.INCONCLUSIVE && !d.state.healthOverridden && !inconclusive;
    await s.emit(
      inconclusive ? EventType.HEALTH_INCONCLUSIVE : EventType.HEALTH_CHECKED,
      promoted ? `${summary}; promoted all the same (health.onInconclusive is PROMOTE)` : summary,
      health,
    );
  }
  return apply(s, decision, health);
}

/** When the phase stops waiting for evidence: the end of its observation plus the evidence timeout (an unreadable end: now). */
function evidenceBound(s: Step): number {
  const observed = Date.parse(s.d.state.observeUntil ?? '');
  if (Number.isNaN(observed)) return s.now.getTime();
  const timeoutMs = s.d.healthPolicy.evidenceTimeoutSeconds === null ? s.deps.settings.evidenceTimeoutMs : s.d.healthPolicy.evidenceTimeoutSeconds * 1000;
  return observed + timeoutMs;
}

async function apply(s: Step, decision: Exclude<PhaseDecision, { kind: 'observe' }>, health: HealthReport | null): Promise<StepResult> {
  const d = s.d;
  switch (decision.kind) {
    case 'next-phase': {
      const phase = d.phase + 1;
      s.deps.tracing.phaseEnded(d, {
        'hotswap.phase.outcome': 'promoted',
        'hotswap.health.healthy': health?.healthy ?? true,
        'hotswap.health.verdict': health?.verdict ?? 'NOT_JUDGED',
      });
      const phaseTrace = s.deps.tracing.phaseStarted({ ...d, phase }, phase);
      await s.update({ phase, state: { ...d.state, stage: 'ROLLOUT', observeUntil: null, healthOverridden: false, phaseTrace } });
      await s.emit(EventType.PHASE_STARTED, `phase ${phase} of ${d.phaseCount} started`);
      return AGAIN;
    }
    case 'complete':
      return complete(s);
    case 'fail':
      await s.update({ status: DeploymentStatus.FAILED, failureReason: decision.reason, finished: true });
      await s.emit(EventType.FAILED, decision.reason);
      return DONE;
    case 'rollback':
      await beginRollback(s, decision.reason, health);
      return AGAIN;
    case 'pause':
      await pause(s, decision.reason, health);
      return { done: false, waitMs: PAUSED_WAIT_MS };
  }
}

/** Starts a rollback (the next steps push the previous version back). */
export async function beginRollback(s: Step, reason: string, health: HealthReport | null): Promise<void> {
  await s.update(rollbackStart(s.d, reason));
  await s.emit(EventType.ROLLBACK_STARTED, reason, health);
}

/** Pauses for an operator; resuming accepts the phase's health as it is. */
export async function pause(s: Step, reason: string, health: HealthReport | null): Promise<void> {
  await s.update({ status: DeploymentStatus.PAUSED, state: { ...s.d.state, healthOverridden: true } });
  await s.emit(EventType.PAUSED, reason, health);
}

async function complete(s: Step): Promise<StepResult> {
  const { r, strategy } = s;
  const { color, previousColor } = s.d.state;
  if (strategy.switchesTraffic && color !== null) {
    await r.traffic.switchTo(s.d.service, s.d.environment, color, s.d.id);
    // Each color keeps its version: instances of the old color that join meanwhile get the old one.
    await r.traffic.setColorVersion(s.d.profileId, color, s.d.version);
    if (previousColor !== null && s.d.previousVersion !== null) await r.traffic.setColorVersion(s.d.profileId, previousColor, s.d.previousVersion);
    await s.setState({ switched: true });
    await s.emit(EventType.TRAFFIC_SWITCHED, `traffic switched from ${previousColor ?? 'none'} to ${color}`);
  } else {
    await r.traffic.clearColorVersions(s.d.profileId);
  }
  await s.update({ status: DeploymentStatus.COMPLETED, finished: true });
  await r.profiles.setActiveVersion(s.d.profileId, s.d.version);
  const late = await sendToLateJoiners(s, s.d.version);
  await s.emit(
    EventType.COMPLETED,
    `version ${s.d.version} is active${late > 0 ? `; sent to ${late} instances that joined meanwhile` : ''}`,
  );
  return DONE;
}
