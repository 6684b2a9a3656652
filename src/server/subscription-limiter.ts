import { RateLimitedError } from '../domain/errors.js';

/** Caps the subscriptions one caller (token `sub`) holds open on this replica. */
export class SubscriptionLimiter {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerCaller: number) {}

  /** Counts one more subscription of `sub`; returns its release function (idempotent). */
  acquire(sub: string): () => void {
    const current = this.open.get(sub) ?? 0;
    if (current >= this.maxPerCaller) {
      throw new RateLimitedError(0, `too many open subscriptions for this token: the limit is ${this.maxPerCaller} per caller`);
    }
    this.open.set(sub, current + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.open.get(sub) ?? 1) - 1;
      if (n <= 0) this.open.delete(sub);
      else this.open.set(sub, n);
    };
  }
}
