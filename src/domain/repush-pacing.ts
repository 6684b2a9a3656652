/**
 * How pushes left unanswered are sent again without ever amplifying load:
 * each target waits twice as long after each send (5 s, 10 s, 20 s … up to
 * MAX_BACKOFF_DOUBLINGS doublings), and a replica sends at most a budget of
 * them per second across all its deployments (a token bucket). An overloaded
 * server whose acks are late thus draws fewer re-sends, not more.
 */

/** The first re-send of a push comes this long after it. */
export const REPUSH_AFTER_MS = 5000;
/** The wait after the n-th send is REPUSH_AFTER_MS × 2^(n−1), at most 2^MAX_BACKOFF_DOUBLINGS × REPUSH_AFTER_MS (160 s). */
export const MAX_BACKOFF_DOUBLINGS = 5;
/** Re-sends per second per replica by default: a fifth of the ack rate one replica takes (bench:fanout), so re-sends can never crowd it. */
export const DEFAULT_REPUSH_PER_SECOND = 2000;

/** How long after its `sends`-th send an unanswered push is sent again. */
export function repushDelayMs(sends: number, baseMs = REPUSH_AFTER_MS): number {
  return baseMs * 2 ** Math.min(Math.max(sends, 1) - 1, MAX_BACKOFF_DOUBLINGS);
}

/** A per-second budget that refills continuously up to one second's worth (no burst beyond it). */
export class RepushBudget {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    if (!(Number.isFinite(perSecond) && perSecond > 0)) throw new RangeError(`a re-push budget must be a positive rate, got ${perSecond}`);
    this.tokens = perSecond;
    this.at = now;
  }

  /** Whole re-sends that may go out now. */
  available(now: number): number {
    this.refill(now);
    return Math.floor(this.tokens);
  }

  /** Counts `n` re-sends as sent. */
  spend(n: number, now: number): void {
    this.refill(now);
    this.tokens = Math.max(0, this.tokens - n);
  }

  private refill(now: number): void {
    // A clock that steps back grants nothing, now or later.
    if (now <= this.at) return;
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.at) * this.perSecond) / 1000);
    this.at = now;
  }
}
