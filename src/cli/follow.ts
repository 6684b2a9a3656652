import { CliError, ExitCode } from './exit-codes.js';
import type { CliGraphQL } from './graphql-client.js';
import type { Out } from './output.js';

/** A verdict's metrics as --wait and --json show them (src/schema/health.type.ts). */
export const HEALTH_METRIC_FIELDS =
  'metrics { name verdict check unit direction critical weight reference canaryCount controlCount canaryMedian controlMedian effect pValue tolerance reason }';
const EVENT_HEALTH = 'health { verdict reasons score checkedAt metrics { name verdict reason } }';
const EVENTS = `subscription($id: ID!) { deploymentEvents(id: $id) {
  type status phase progress message at ${EVENT_HEALTH} } }`;
/** Whether the deployment exists, and its phase count for the progress line. */
const HEADER = 'query($id: ID!) { deployment(id: $id) { phaseCount } }';
const HISTORY = `query($id: ID!, $last: Int) { deployment(id: $id) { events(last: $last) {
  type status phase progress message at ${EVENT_HEALTH} } } }`;
const OUTCOME = `query($id: ID!) { deployment(id: $id) { status rollbackReason failureReason ${EVENT_HEALTH} } }`;

interface EventMessage {
  type: string;
  status: string;
  phase: number;
  progress: number;
  message: string | null;
  at: string;
  health: Verdict | null;
}

/** A health verdict as an event carries it. */
interface Verdict {
  verdict: HealthVerdictName;
  reasons: string[];
  score: number | null;
  checkedAt: string;
  metrics: Array<{ name: string; verdict: MetricOutcomeName; reason: string }>;
}

type MetricOutcomeName = 'PASS' | 'FAIL' | 'NO_DATA';
const OUTCOME_COLORS = { PASS: 'green', FAIL: 'red', NO_DATA: 'yellow' } as const;

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
      /** When the verdicts whose metrics were printed were made: several events may carry one verdict. */
      const verdictsShown = new Set<string>();
      const printMetrics = (health: Verdict | null) => {
        if (health === null || verdictsShown.has(health.checkedAt)) return;
        verdictsShown.add(health.checkedAt);
        for (const line of metricLines(health, out)) out.line(line);
      };
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
            if (e.type !== 'CURRENT_STATE' || e.message) {
              out.line(describe(e, deployment.phaseCount, out));
              printMetrics(e.health);
            }
            lastHealth = e.health ?? lastHealth;
            stream.write(progressLine({ ...e, health: lastHealth }, deployment.phaseCount, out));
            progressShown = true;
          } else {
            out.line(describe(e, deployment.phaseCount, out));
            printMetrics(e.health);
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
  const outcome = await outcomeOf(api, id, final);
  if (outcome.health) {
    const h = outcome.health;
    out.line(`last health verdict, ${h.checkedAt}: ${out.paint(VERDICT_WORDS[h.verdict], VERDICT_COLORS[h.verdict])}${h.score === null ? '' : `, score ${Number(h.score.toFixed(3))}`}`);
    for (const line of metricLines(h, out)) out.line(line);
  }
  out.line(`deployment ${id} ${final === 'COMPLETED' ? out.paint(final, 'green') : out.paint(final, 'red')}${outcome.why}`);
  return code;
}

/** One line per metric of a verdict, indented under the line it belongs to: each reason is a sentence ending in the metric's verdict. */
function metricLines(h: Verdict, out: Out): string[] {
  return h.metrics.map((m) => `    ${out.paint(m.reason.replace(/[\r\n]+/g, ' '), OUTCOME_COLORS[m.verdict] ?? 'dim')}`);
}

/** Identifies an event seen both in the history and live. */
const keyOf = (e: EventMessage) => `${e.type}|${e.status}|${e.phase}|${e.at}`;

/**
 * `why`: ": <rollback or failure reason>" for a deployment that did not
 * complete, "" otherwise; `health`: its last verdict, null when it had none.
 * Neither when the deployment cannot be read.
 */
async function outcomeOf(api: CliGraphQL, id: string, status: string): Promise<{ why: string; health: Verdict | null }> {
  try {
    type Outcome = { rollbackReason: string | null; failureReason: string | null; health: Verdict | null };
    const { deployment: d } = await api.request<{ deployment: Outcome | null }>(OUTCOME, { id });
    const reason = status === 'COMPLETED' ? null : status === 'ROLLED_BACK' ? d?.rollbackReason : (d?.failureReason ?? d?.rollbackReason);
    return { why: reason ? `: ${reason}` : '', health: d?.health ?? null };
  } catch {
    return { why: '', health: null };
  }
}

/** "2026-11-24T10:00:00.000Z PHASE_STARTED    IN_PROGRESS  phase 2/4 30% phase 2 of 4 started" */
function describe(e: EventMessage, phaseCount: number, out: Out): string {
  // A metric's reason shows on its own line below; the rest (evidence, score) stays on the event's.
  const own = new Set(e.health?.metrics.map((m) => m.reason));
  const reasons = e.health?.reasons.filter((r) => !own.has(r)) ?? [];
  const health = e.health ? ` ${VERDICT_WORDS[e.health.verdict]}${e.health.verdict === 'PASS' || reasons.length === 0 ? '' : `: ${reasons.join('; ')}`}` : '';
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
  // A message that speaks of health (or says the verdict's word) has said it already.
  const said = e.health !== null && (e.message?.includes('health') || e.message?.includes(VERDICT_WORDS[e.health.verdict]));
  return `${text}${e.health && !said ? health : ''}`.replace(/[\r\n]+/g, ' ');
}

/** "[██████░░░░░░░░░░░░░░]  30% phase 2/4 IN_PROGRESS healthy" (no newline: rewritten in place). */
function progressLine(e: EventMessage, phaseCount: number, out: Out): string {
  const width = 20;
  const filled = Math.round(Math.min(1, Math.max(0, e.progress)) * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const health = e.health ? out.paint(` ${VERDICT_WORDS[e.health.verdict]}`, VERDICT_COLORS[e.health.verdict]) : '';
  return `[${out.paint(bar, 'cyan')}] ${String(Math.round(e.progress * 100)).padStart(3)}% phase ${e.phase}/${phaseCount} ${e.status}${health}`;
}
