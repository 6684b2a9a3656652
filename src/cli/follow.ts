import { CliError, ExitCode } from './exit-codes.js';
import type { CliGraphQL } from './graphql-client.js';
import type { Out } from './output.js';

const EVENTS = `subscription($id: ID!) { deploymentEvents(id: $id) {
  type status phase progress message at health { verdict reasons } } }`;
/** Whether the deployment exists, and its phase count for the progress line. */
const HEADER = 'query($id: ID!) { deployment(id: $id) { phaseCount } }';
const HISTORY = `query($id: ID!, $last: Int) { deployment(id: $id) { events(last: $last) {
  type status phase progress message at health { verdict reasons } } } }`;
const OUTCOME = 'query($id: ID!) { deployment(id: $id) { status rollbackReason failureReason } }';

interface EventMessage {
  type: string;
  status: string;
  phase: number;
  progress: number;
  message: string | null;
  at: string;
  health: { verdict: HealthVerdictName; reasons: string[] } | null;
}

export type HealthVerdictName = 'PASS' | 'FAIL' | 'INCONCLUSIVE';
/** How a verdict reads in a terminal: INCONCLUSIVE is never shown as healthy. */
export const VERDICT_WORDS: Record<HealthVerdictName, string> = { PASS: 'healthy', FAIL: 'degraded', INCONCLUSIVE: 'inconclusive' };
const VERDICT_COLORS = { PASS: 'green', FAIL: 'red', INCONCLUSIVE: 'yellow' } as const;

/** The exit code of a deployment's final status. */
const EXIT_BY_STATUS: Readonly<Record<string, ExitCode>> = {
  COMPLETED: ExitCode.OK,
  ROLLED_BACK: ExitCode.ROLLED_BACK,
  FAILED: ExitCode.FAILED,
  CANCELLED: ExitCode.FAILED,
};

export interface FollowOptions {
  /** How many of the events before following began to show first (0: none; the deployment's current state shows instead). */
  history?: number;
  /** Where SIGINT comes from (tests pass an EventEmitter). */
  signals?: NodeJS.EventEmitter;
  /** The stream `out` writes to: the progress line is rewritten in place on it when `out.tty`. */
  stream?: NodeJS.WritableStream;
}

/**
 * Follows a deployment's events live until it ends and returns the exit code
 * of its final status. On a terminal: one progress line, rewritten in place,
 * with phase, progress and health, and the notable events above it; otherwise
 * (CI) one plain line per event, without colour or carriage returns. The last
 * `history` events recorded before following began come first, so `deploy
 * --wait` shows every event of its deployment even when the first ones happened
 * before the subscription was up. Ctrl-C stops following (the deployment goes
 * on) and says how to follow again. A deployment that has already ended answers
 * at once (the subscription's first message is its current state).
 */
export async function followDeployment(api: CliGraphQL, id: string, out: Out, o: FollowOptions = {}): Promise<ExitCode> {
  const signals = o.signals ?? process;
  const stream = o.stream ?? process.stdout;
  let interrupted = false;
  let stopSubscription: (() => void) | null = null;
  const onInterrupt = () => {
    interrupted = true;
    stopSubscription?.();
  };
  signals.on('SIGINT', onInterrupt);
  let final: string | null = null;
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) stream.write('\r\u001b[2K');
    progressShown = false;
  };
  try {
    const { deployment } = await api.request<{ deployment: { phaseCount: number } | null }>(HEADER, { id });
    if (!deployment) throw new CliError([`NOT_FOUND: deployment ${id} not found`], ExitCode.REFUSED);
    if (!interrupted) {
      const shown = new Set<string>();
      /** The last health verdict, kept on the progress line until the next one. */
      let lastHealth: EventMessage['health'] = null;
      /** Live events that arrived while the history was being read. */
      let pending: EventMessage[] | null = [];
      let caughtUp: Promise<void> = Promise.resolve();
      let failure: unknown;
      /** Prints an event once; a live event with a final status ends following (a recorded one may have been followed by a rollback). */
      const show = (e: EventMessage, live: boolean) => {
        if (final !== null || interrupted) return;
        if (!shown.has(keyOf(e))) {
          shown.add(keyOf(e));
          if (out.tty) {
            clearProgress();
            if (e.type !== 'CURRENT_STATE' || e.message) out.line(describe(e, deployment.phaseCount, out));
            lastHealth = e.health ?? lastHealth;
            stream.write(progressLine({ ...e, health: lastHealth }, deployment.phaseCount, out));
            progressShown = true;
          } else {
            out.line(describe(e, deployment.phaseCount, out));
          }
        }
        if (live && EXIT_BY_STATUS[e.status] !== undefined) {
          final = e.status;
          sub.stop();
        }
      };
      /** Shows the recorded events up to `current` (or `current` itself), then the live ones that came meanwhile. */
      const catchUp = async (current: EventMessage) => {
        const past = o.history ? (await api.request<{ deployment: { events: EventMessage[] } | null }>(HISTORY, { id, last: o.history })).deployment?.events : [];
        if (past?.length) for (const e of past) show(e, false);
        else show(current, false);
        if (final === null && !interrupted && EXIT_BY_STATUS[current.status] !== undefined) {
          final = current.status;
          sub.stop();
        }
        const waiting = pending ?? [];
        pending = null;
        for (const e of waiting) show(e, true);
      };
      const sub = api.subscribe<{ deploymentEvents: EventMessage }>(EVENTS, { id }, ({ deploymentEvents: e }) => {
        if (e.type === 'CURRENT_STATE') {
          caughtUp = catchUp(e).catch((error: unknown) => {
            failure = error;
            sub.stop();
          });
        } else if (pending) pending.push(e);
        else show(e, true);
      });
      stopSubscription = sub.stop;
      await sub.done;
      await caughtUp;
      if (failure !== undefined) throw failure;
    }
  } finally {
    signals.off('SIGINT', onInterrupt);
    clearProgress();
  }
  if (interrupted && final === null) {
    out.line(`stopped following; deployment ${id} goes on. Follow it again with: hotswap deployment follow ${id}`);
    return ExitCode.INTERRUPTED;
  }
  if (final === null) throw new CliError([`the deploymentEvents subscription of ${id} ended before the deployment did`], ExitCode.UNREACHABLE);
  const code = EXIT_BY_STATUS[final] ?? ExitCode.FAILED;
  out.line(`deployment ${id} ${final === 'COMPLETED' ? out.paint(final, 'green') : out.paint(final, 'red')}${await why(api, id, final)}`);
  return code;
}

/** Identifies an event seen both in the history and live. */
const keyOf = (e: EventMessage) => `${e.type}|${e.status}|${e.phase}|${e.at}`;

/** ": <rollback or failure reason>" for a deployment that did not complete; "" otherwise (or when it cannot be read). */
async function why(api: CliGraphQL, id: string, status: string): Promise<string> {
  if (status === 'COMPLETED') return '';
  try {
    const { deployment: d } = await api.request<{ deployment: { rollbackReason: string | null; failureReason: string | null } | null }>(OUTCOME, { id });
    const reason = status === 'ROLLED_BACK' ? d?.rollbackReason : (d?.failureReason ?? d?.rollbackReason);
    return reason ? `: ${reason}` : '';
  } catch {
    return '';
  }
}

/** "2026-11-24T10:00:00.000Z PHASE_STARTED    IN_PROGRESS  phase 2/4 30% phase 2 of 4 started" */
function describe(e: EventMessage, phaseCount: number, out: Out): string {
  const health = e.health ? ` ${VERDICT_WORDS[e.health.verdict]}${e.health.verdict === 'PASS' ? '' : `: ${e.health.reasons.join('; ')}`}` : '';
  const type = e.type.padEnd(16);
  const painted =
    e.type === 'FAILED' || e.type === 'ROLLBACK_STARTED' || e.type === 'ROLLED_BACK'
      ? out.paint(type, 'red')
      : e.type === 'COMPLETED'
        ? out.paint(type, 'green')
        : e.type === 'HEALTH_INCONCLUSIVE'
          ? out.paint(type, 'yellow')
          : type;
  const text = `${e.at} ${painted} ${e.status.padEnd(12)} phase ${e.phase}/${phaseCount} ${Math.round(e.progress * 100)}%${e.message ? ` ${e.message}` : ''}`;
  return `${text}${e.health && !e.message?.includes('health') ? health : ''}`.replace(/[\r\n]+/g, ' ');
}

/** "[██████░░░░░░░░░░░░░░]  30% phase 2/4 IN_PROGRESS healthy" (no newline: rewritten in place). */
function progressLine(e: EventMessage, phaseCount: number, out: Out): string {
  const width = 20;
  const filled = Math.round(Math.min(1, Math.max(0, e.progress)) * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const health = e.health ? out.paint(` ${VERDICT_WORDS[e.health.verdict]}`, VERDICT_COLORS[e.health.verdict]) : '';
  return `[${out.paint(bar, 'cyan')}] ${String(Math.round(e.progress * 100)).padStart(3)}% phase ${e.phase}/${phaseCount} ${e.status}${health}`;
}
