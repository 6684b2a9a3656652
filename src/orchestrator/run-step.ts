import { decide, type Next, PAUSED_WAIT_MS, type StepView } from '../domain/lifecycle/decide.js';
import { phaseHealthEvent } from '../domain/lifecycle/judgement.js';
import { EventType } from '../domain/deployment-model.js';
import { DeploymentStatus } from '../domain/enums.js';
import type { HealthReport } from '../domain/health.js';
import { rollbackStart } from '../domain/lifecycle/controls.js';
import { acceptingHealth, healthAccepted, withStage } from '../domain/lifecycle/stage.js';
import { REPUSH_AFTER_MS } from '../domain/repush-pacing.js';
import { awaitingNewPushes, repush, waitForAcks } from './acks.js';
import { complete, rollbackIncomplete, rolledBack, switchBack } from './endings.js';
import type { PlannedTargets, Step, StepResult } from './step.js';
import { readOutcome, readView } from './view.js';

const DONE: StepResult = { done: true, waitMs: 0 };
const AGAIN: StepResult = { done: false, waitMs: 0 };
/** More decisions than any step makes (push, await, observe, judge, act): a loop past it is a bug. */
const MAX_DECISIONS = 16;

/**
 * One step of a deployment: reads what it needs, asks decide
 * (src/domain/lifecycle/decide.ts) what to do, does it, and decides again
 * until a decision says to wait or the deployment ends. `repushDue`: this
 * step also sends again the pushes left unanswered (acks.ts). `planned`: the
 * targets of a deployment created in this transaction, written by its first step.
 */
export async function runStep(s: Step, repushDue: boolean, planned?: PlannedTargets): Promise<StepResult> {
  let inFlightAtStart: number | undefined;
  for (let i = 0; i < MAX_DECISIONS; i++) {
    const view = await readView(s, i === 0);
    inFlightAtStart ??= view.counts?.inFlight ?? 0;
    const next = decide(view);
    const result = await apply(s, view, next, { repush: repushDue && inFlightAtStart > 0, planned });
    if (result) return result;
  }
  throw new Error(`deployment ${s.d.id}: no step ends after ${MAX_DECISIONS} decisions`);
}

/** Does what `next` says; a result ends the step, undefined decides again. */
async function apply(s: Step, view: StepView, next: Next, o: { repush: boolean; planned?: PlannedTargets }): Promise<StepResult | undefined> {
  const { r, d } = s;
  switch (next.kind) {
    case 'start': {
      const phaseTrace = s.deps.tracing.phaseStarted({ ...d, phase: 1 }, 1);
      await s.transition({ status: DeploymentStatus.IN_PROGRESS, phase: 1, state: { ...d.state, phaseTrace } }, `phase 1 of ${d.phaseCount} started`);
      if (!o.planned) return undefined;
      await writeTargets(s, o.planned);
      // Pushes written with the targets fill the room and all await their acks.
      return awaitingNewPushes();
    }
    case 'push': {
      const ids = await r.targets.pendingInPhase(d.id, d.phase, next.count);
      await r.targets.markPushed(d.id, d.profileId, ids, d.version, d.ackTimeoutSeconds);
      await s.push(d.version, ids);
      return undefined;
    }
    case 'await-acks':
      if (o.repush) await repush(s, REPUSH_AFTER_MS, s.deps.repushBudget);
      return waitForAcks(s);
    case 'wait':
      return { done: false, waitMs: next.ms };
    case 'observe': {
      const answered = view.counts;
      const message = `phase ${d.phase} of ${d.phaseCount}: ${answered?.applied ?? 0} of ${answered?.total ?? 0} applied`;
      // Persisted even for no wait, so a phase paused when judged is not completed again on resume.
      await s.setStage({ kind: 'OBSERVE', until: next.until, healthAccepted: healthAccepted(s.stage) });
      if (next.seconds === 0) {
        await s.emit(EventType.PHASE_COMPLETED, message);
        return undefined;
      }
      await s.emit(EventType.PHASE_COMPLETED, `${message}; ${s.strategy.observation} ${next.seconds} s before judging health`);
      return { done: false, waitMs: next.seconds * 1000 };
    }
    case 'judge':
      return judge(s, view);
    case 'restore': {
      await s.setState({ rollbackTrace: s.deps.tracing.rollbackStarted(d, d.rollbackReason ?? 'rollback') });
      const ids = d.version === next.version ? [] : await r.targets.sentVersion(d.id, d.version);
      await r.targets.markPushed(d.id, d.profileId, ids, next.version, d.ackTimeoutSeconds);
      await s.push(next.version, ids);
      const from = s.stage.kind === 'ROLLBACK' ? s.stage.from : null;
      await s.setStage({ kind: 'ROLLBACK', from, pushed: true });
      // New subscribers get the previous version from now on (it is already active unless the deployment had completed).
      await r.profiles.setActiveVersion(d.profileId, next.version);
      return undefined;
    }
    case 'switch-back':
      return switchBack(s, next.color);
    case 'rollback-incomplete':
      return rollbackIncomplete(s, next.version);
    case 'rolled-back':
      return rolledBack(s, next, view.counts?.rolledBack ?? 0);
    case 'done':
      return DONE;
    default:
      return act(s, next, null);
  }
}

/**
 * The observation is over: the phase's outcome (health included), then decide
 * again. A decision to keep waiting for evidence records nothing; any other
 * records the judged health first.
 */
async function judge(s: Step, view: StepView): Promise<StepResult | undefined> {
  const outcome = await readOutcome(s);
  const next = decide({ ...view, outcome });
  if (next.kind === 'wait') return { done: false, waitMs: next.ms };
  const health = outcome.health;
  if (health !== null) {
    const { d } = s;
    s.deps.tracing.healthChecked(d, d.state.phaseTrace, health, false);
    const event = phaseHealthEvent({ phase: d.phase, phaseCount: d.phaseCount, healthOverridden: healthAccepted(s.stage) }, health, next);
    await s.emit(event.type, event.message, health);
  }
  return act(s, next, health);
}

/** Applies the decision on a judged phase (or a periodic health check): `health` is the verdict that led to it. */
export async function act(s: Step, next: Next, health: HealthReport | null): Promise<StepResult> {
  const d = s.d;
  switch (next.kind) {
    case 'next-phase': {
      const phase = d.phase + 1;
      s.deps.tracing.phaseEnded(d, {
        'hotswap.phase.outcome': 'promoted',
        'hotswap.health.healthy': health?.healthy ?? true,
        'hotswap.health.verdict': health?.verdict ?? 'NOT_JUDGED',
      });
      const phaseTrace = s.deps.tracing.phaseStarted({ ...d, phase }, phase);
      await s.update({ phase, state: { ...withStage(d.state, { kind: 'ROLLOUT', healthAccepted: false }), phaseTrace } });
      await s.emit(EventType.PHASE_STARTED, `phase ${phase} of ${d.phaseCount} started`);
      return AGAIN;
    }
    case 'complete':
      return complete(s, next.switchTo);
    case 'fail':
      await s.transition({ status: DeploymentStatus.FAILED, failureReason: next.reason, finished: true }, next.reason);
      return DONE;
    case 'rollback':
      await s.transition(rollbackStart(d, next.reason), next.reason, health);
      return AGAIN;
    case 'pause':
      // Resuming accepts the phase's health as it is.
      await s.transition({ status: DeploymentStatus.PAUSED, state: withStage(d.state, acceptingHealth(s.stage)) }, next.reason, health);
      return { done: false, waitMs: PAUSED_WAIT_MS };
    default:
      throw new Error(`deployment ${d.id}: "${next.kind}" is not a decision on a phase`);
  }
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
