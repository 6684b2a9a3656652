/** Held-back messages handled before the event loop gets a turn again. */
export const MESSAGES_PER_SLICE = 256;

/**
 * Holds incoming websocket messages back while a push is being written, then
 * handles them in arrival order, a slice at a time. A push to 10,000 sockets
 * is written in slices (direct-lane.ts) so that timers and lease renewals get
 * their turns, but each turn also read the acks of the instances already
 * written (~280 µs of server time each): at 10,000 the last instance received
 * its push 2.4 s after the first instead of 0.8 s. Acks wait instead; none is
 * lost, and each connection's messages keep their order (one queue for all).
 * One per websocket server.
 */
export class MessageScheduler {
  private holds = 0;
  private queue: Array<() => void> = [];
  private next = 0;
  private scheduled = false;

  /** A push is being written: hold messages back until `release`. */
  hold(): void {
    this.holds++;
  }

  release(): void {
    this.holds = Math.max(0, this.holds - 1);
    if (this.holds === 0) this.schedule();
  }

  /** Runs `task` now, or after the messages held back before it once no push is being written. */
  run(task: () => void): void {
    if (this.holds === 0 && this.next === this.queue.length) {
      task();
      return;
    }
    this.queue.push(task);
  }

  private schedule(): void {
    if (this.scheduled || this.next === this.queue.length) return;
    this.scheduled = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    // A new push started: it goes first, its release resumes the queue.
    if (this.holds > 0) return;
    const end = Math.min(this.next + MESSAGES_PER_SLICE, this.queue.length);
    while (this.next < end) {
      const task = this.queue[this.next]!;
      this.queue[this.next++] = noop;
      task();
    }
    if (this.next === this.queue.length) {
      this.queue = [];
      this.next = 0;
    } else {
      this.schedule();
    }
  };
}

function noop(): void {}
