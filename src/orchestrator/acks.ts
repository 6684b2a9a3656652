import { expireAck } from '../domain/ack-expiry.js';
import { TargetState } from '../domain/deployment.js';
import type { RepushBudget } from '../domain/repush-pacing.js';
import type { Step, StepResult } from './step.js';

const IDLE_WAIT_MS = 1000;

/** While pushes await acks, the step waits until the next deadline (at most IDLE_WAIT_MS; an ack wakes it sooner). */
export async function waitForAcks(s: Step): Promise<StepResult> {
  const ms = await s.r.targets.msToNextDeadline(s.d.id);
  return { done: false, waitMs: Math.min(ms ?? IDLE_WAIT_MS, IDLE_WAIT_MS) };
}

/**
 * Ends the pushes whose ack deadline passed, by whether their instance is
 * still there (domain/ack-expiry.ts): TIMED_OUT when connected, LEFT when
 * gone, and a new deadline at the end of the reconnect grace when it
 * disconnected only just now.
 */
export async function expireAcks(s: Step): Promise<void> {
  const { r, d } = s;
  const expired = await r.targets.expired(d.id);
  if (expired.length === 0) return;
  const presence = await s.deps.registry.presence(expired);
  const ended: Array<{ instanceId: string; state: TargetState; error: string }> = [];
  const extended: Array<{ instanceId: string; at: Date }> = [];
  for (const instanceId of expired) {
    const e = expireAck(presence.get(instanceId), s.now, s.deps.settings.reconnectGraceMs, d.ackTimeoutSeconds);
    if (e.kind === 'grace') extended.push({ instanceId, at: e.until });
    else ended.push({ instanceId, state: e.kind === 'left' ? TargetState.LEFT : TargetState.TIMED_OUT, error: e.error });
  }
  await r.targets.endExpired(d.id, ended);
  await r.targets.extendDeadlines(d.id, extended);
}

/** The wait after a step whose pushes are the only ones awaiting an ack (their deadlines ackTimeoutSeconds ≥ 1 s away). */
export function awaitingNewPushes(): StepResult {
  return { done: false, waitMs: IDLE_WAIT_MS };
}

/**
 * Queues again the pushes left unanswered (a push published while the pub/sub
 * link was down, or lost with a replica, still arrives; an instance acks a
 * re-sent copy again), one message per version: those last sent at least
 * `olderThanMs` ago, doubled per earlier send (domain/repush-pacing.ts), at
 * most what `budget` allows now; without a budget (a takeover's resume), all.
 */
export async function repush(s: Step, olderThanMs: number, budget?: RepushBudget): Promise<number> {
  const { r, d } = s;
  const limit = budget ? budget.available(Date.now()) : null;
  if (limit === 0) return 0;
  const awaiting = await r.targets.awaitingAck(d.id, olderThanMs, limit);
  budget?.spend(awaiting.length, Date.now());
  await r.targets.markSent(d.id, awaiting.map((t) => t.instanceId));
  const byVersion = new Map<number, string[]>();
  for (const t of awaiting) {
    const ids = byVersion.get(t.version);
    if (ids) ids.push(t.instanceId);
    else byVersion.set(t.version, [t.instanceId]);
  }
  for (const [version, ids] of byVersion) await s.push(version, ids);
  return awaiting.length;
}
