import type { DeploymentResult } from '../deployment.js';
import type { HealthPolicy, StrategyOptions } from '../deployment-model.js';
import { type Color, DeploymentStatus } from '../enums.js';
import type { PhaseDecision, PhaseOutcome } from './judgement.js';
import type { PhaseStage } from './stage.js';

/** A paused deployment's runner looks again this often (resume and rollback wake it at once). */
export const PAUSED_WAIT_MS = 5000;
/** While a phase's health is INCONCLUSIVE within its evidence bound, it looks again this often. */
export const EVIDENCE_POLL_MS = 1000;

/** The pure part of a strategy that decide needs (src/orchestrator/strategies). */
export interface StrategyRules {
  readonly switchesTraffic: boolean;
  maxInFlight(options: StrategyOptions, phaseSize: number): number;
  observeSeconds(options: StrategyOptions, phase: number, phaseCount: number): number;
  afterPhase(outcome: PhaseOutcome, options: StrategyOptions, policy: HealthPolicy): PhaseDecision;
}

/** A deployment's targets by outcome, with those awaiting an ack apart. */
export interface TargetCounts extends DeploymentResult {
  /** PUSHED: sent, awaiting the ack (counted in `pending` too). */
  inFlight: number;
}

/** What a step knows when it decides; everything in it was read in the step's transaction. */
export interface StepView {
  status: DeploymentStatus;
  phase: number;
  phaseCount: number;
  stage: PhaseStage;
  /** ms since the epoch. */
  now: number;
  strategy: StrategyRules;
  options: StrategyOptions;
  policy: HealthPolicy;
  version: number;
  previousVersion: number | null;
  rollbackReason: string | null;
  traffic: { color: Color | null; previousColor: Color | null; switched: boolean };
  /** How long a phase may keep observing past its observation for evidence. */
  evidenceTimeoutMs: number;
  /** Targets of the current phase while rolling out, of the whole deployment while rolling back; absent while observing. */
  counts?: TargetCounts;
  /** Once the observation is over: the phase's results, failures and health (null when not judged). */
  outcome?: Omit<PhaseOutcome, 'phase' | 'phaseCount' | 'healthOverridden' | 'evidenceDue'>;
}

/** What to do next: the step applies it (src/orchestrator/apply.ts) and, unless it says to wait, decides again. */
export type Next =
  /** PENDING: the first phase starts. */
  | { kind: 'start' }
  /** Push this many of the phase's targets not pushed yet (the room under the in-flight limit). */
  | { kind: 'push'; count: number }
  /** Pushes await acks: wait for the next deadline, or an ack's wake-up. */
  | { kind: 'await-acks' }
  /** Every target of the phase answered: observe until `until` (now: judge at once). */
  | { kind: 'observe'; until: number; seconds: number }
  /** Nothing to do for `ms`. */
  | { kind: 'wait'; ms: number }
  /** The observation is over: bring the phase's outcome (health included) and decide again. */
  | { kind: 'judge' }
  | { kind: 'next-phase' }
  /** The last phase passed: `switchTo` takes traffic (blue-green), and the version becomes active. */
  | { kind: 'complete'; switchTo: Color | null }
  | { kind: 'fail'; reason: string }
  | { kind: 'rollback'; reason: string }
  | { kind: 'pause'; reason: string; inconclusive?: boolean }
  /** Rolling back: push `version` to every target that was sent the new one. */
  | { kind: 'restore'; version: number }
  /** Rolling back after a blue-green switch: `color` (which runs the previous version) takes traffic again. */
  | { kind: 'switch-back'; color: Color }
  /** Rolling back: some targets did not come back to the previous version. */
  | { kind: 'rollback-incomplete'; version: number }
  /** Every target came back; `color`'s instances run `version` again (null: no colors). */
  | { kind: 'rolled-back'; version: number; color: Color | null; fromCompleted: boolean }
  /** Nothing left to run. */
  | { kind: 'done' };

/**
 * The deployment lifecycle's one decision: from what a step read, what it
 * does next. Pure: no storage, network or clock (`view.now`).
 */
export function decide(view: StepView): Next {
  switch (view.status) {
    case DeploymentStatus.PENDING:
      return { kind: 'start' };
    case DeploymentStatus.IN_PROGRESS:
      return view.stage.kind === 'OBSERVE' ? decideObserving(view, view.stage) : decideRollout(view);
    case DeploymentStatus.ROLLING_BACK:
      return decideRollback(view);
    case DeploymentStatus.PAUSED:
      return { kind: 'wait', ms: PAUSED_WAIT_MS };
    default:
      return { kind: 'done' };
  }
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`decide needs ${what} for this step`);
  return value;
}

/** Push the phase (at most the in-flight limit awaiting acks), wait for its answers, then observe. */
function decideRollout(view: StepView): Next {
  const counts = need(view.counts, 'the phase target counts');
  const notPushed = counts.pending - counts.inFlight;
  const room = view.strategy.maxInFlight(view.options, counts.total) - counts.inFlight;
  // All the room at once: one push message and one burst of socket writes, before any of its acks is read.
  if (notPushed > 0 && room > 0) return { kind: 'push', count: room };
  if (counts.inFlight > 0) return { kind: 'await-acks' };
  // A phase with failures is judged at once: there is nothing to observe.
  const seconds = counts.failed + counts.timedOut > 0 ? 0 : view.strategy.observeSeconds(view.options, view.phase, view.phaseCount);
  return { kind: 'observe', until: view.now + seconds * 1000, seconds };
}

function decideObserving(view: StepView, stage: Extract<PhaseStage, { kind: 'OBSERVE' }>): Next {
  const left = stage.until - view.now;
  if (left > 0) return { kind: 'wait', ms: left };
  if (view.outcome === undefined) return { kind: 'judge' };
  // The phase stops waiting for evidence at the end of its observation plus the evidence timeout.
  const untilBound = stage.until + view.evidenceTimeoutMs - view.now;
  const decision = view.strategy.afterPhase(
    { ...view.outcome, phase: view.phase, phaseCount: view.phaseCount, healthOverridden: stage.healthAccepted, evidenceDue: untilBound <= 0 },
    view.options,
    view.policy,
  );
  switch (decision.kind) {
    case 'observe':
      return { kind: 'wait', ms: Math.max(1, Math.min(EVIDENCE_POLL_MS, untilBound)) };
    case 'complete':
      return { kind: 'complete', switchTo: view.strategy.switchesTraffic ? view.traffic.color : null };
    default:
      return decision;
  }
}

/**
 * The previous version goes to every target that was sent the new one, and
 * the acks are verified; after a blue-green switch, rolling back is switching
 * traffic back (the other color still runs the previous version).
 */
function decideRollback(view: StepView): Next {
  const stage = view.stage.kind === 'ROLLBACK' ? view.stage : { kind: 'ROLLBACK' as const, from: null, pushed: false };
  const previous = view.previousVersion;
  if (previous === null) return { kind: 'fail', reason: noPreviousVersion(view) };
  const { switched, previousColor, color } = view.traffic;
  if (view.strategy.switchesTraffic && switched && previousColor !== null) return { kind: 'switch-back', color: previousColor };
  if (!stage.pushed) return { kind: 'restore', version: previous };
  const counts = need(view.counts, 'the deployment target counts');
  if (counts.inFlight > 0) return { kind: 'await-acks' };
  if (counts.failed + counts.timedOut > 0) return { kind: 'rollback-incomplete', version: previous };
  return {
    kind: 'rolled-back',
    version: previous,
    // The instances that got the new version run the previous one again (before a switch: those of the idle color).
    color: view.strategy.switchesTraffic ? color : null,
    fromCompleted: stage.from === DeploymentStatus.COMPLETED,
  };
}

function noPreviousVersion(view: StepView): string {
  return `${view.rollbackReason ?? 'rollback'}; version ${view.version} was the profile's first active version, so there is no previous version to restore: the updated instances keep it`;
}
