import { InstanceStatus } from '../domain/enums.js';
import { EndReason } from '../domain/instance-identity.js';
import type { InstanceRegistry } from '../registry/instance-registry.js';
import type { InstanceIdentityService } from '../services/instance-identity.service.js';
import type { ScheduledJob } from './scheduler.js';

/** What one reaper run changed. */
export interface ReaperChange {
  /** Instances marked STALE by this run. */
  stale: string[];
  /** Instances removed by this run (STALE for longer than the grace period). */
  removed: string[];
}

export interface InstanceReaperOptions {
  /** How often instances heartbeat; also how often the reaper runs. */
  heartbeatIntervalMs: number;
  /** Heartbeats an instance may miss before it is STALE. @default 3 */
  missedBeats?: number;
  /** How long an instance stays STALE (and can come back with a heartbeat) before it is removed. */
  graceMs: number;
  /** The clock. @default () => new Date() */
  now?: () => Date;
  /** Told after every run that changed something (never with two empty lists). */
  onChange?: (change: ReaperChange) => void;
}

/**
 * Marks silent instances STALE and removes those that stay silent. The rule is
 * the one of `instanceStatusAt`: STALE once *more than* `missedBeats ×
 * heartbeatIntervalMs` has passed since the last heartbeat; removed once STALE
 * for *more than* `graceMs`. Safe to run on every replica at once: the registry
 * reports each change to one caller only.
 *
 * A removal is recorded as an end (PostgreSQL) before the registry forgets the
 * instance, so its token cannot restore it after a lost registry: the ends of
 * the instances due are recorded, then they are removed, then the ends of any
 * that heartbeat in between, and stay, are taken back. When the record fails
 * (PostgreSQL down), nothing is removed this run.
 */
export class InstanceReaper {
  private readonly silenceMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly registry: InstanceRegistry,
    private readonly identities: Pick<InstanceIdentityService, 'recordEnded' | 'withdrawEnded'>,
    private readonly options: InstanceReaperOptions,
  ) {
    const { heartbeatIntervalMs, missedBeats = 3, graceMs } = options;
    if (!(heartbeatIntervalMs > 0) || !(missedBeats > 0) || !(graceMs >= 0)) {
      throw new RangeError(
        `reaper needs heartbeatIntervalMs > 0, missedBeats > 0 and graceMs ≥ 0, got ${heartbeatIntervalMs}, ${missedBeats}, ${graceMs}`,
      );
    }
    this.silenceMs = heartbeatIntervalMs * missedBeats;
    this.now = options.now ?? (() => new Date());
  }

  /** The reaper as a Scheduler job, run every heartbeat interval. */
  job(): ScheduledJob {
    return {
      name: 'instance-reaper',
      intervalMs: this.options.heartbeatIntervalMs,
      run: async (signal) => {
        if (!signal.aborted) await this.runOnce(signal);
      },
    };
  }

  /** One pass: mark, then remove; `signal` (when aborted) skips the removal. */
  async runOnce(signal?: AbortSignal): Promise<ReaperChange> {
    const now = this.now();
    const stale = await this.registry.markStale(new Date(now.getTime() - this.silenceMs), now);
    const removed = signal?.aborted ? [] : await this.remove(new Date(now.getTime() - this.options.graceMs));
    const change = { stale, removed };
    if (stale.length > 0 || removed.length > 0) this.options.onChange?.(change);
    return change;
  }

  /** Removes the instances STALE since before `cutoff`, their ends recorded first; returns the ids this call removed. */
  private async remove(cutoff: Date): Promise<string[]> {
    const due = (await this.registry.list({ status: InstanceStatus.STALE }))
      .filter((r) => r.staleSince !== null && r.staleSince.getTime() < cutoff.getTime())
      .map((r) => r.id);
    if (due.length === 0) return [];
    await this.identities.recordEnded(due, EndReason.REAPED);
    const removed = await this.registry.removeStale(cutoff);
    // Due only since the listing (another replica's clock): recorded late rather than never.
    await this.identities.recordEnded(removed.filter((id) => !due.includes(id)), EndReason.REAPED);
    const kept = due.filter((id) => !removed.includes(id));
    if (kept.length > 0) {
      // Not removed by this call: gone already (another replica's reaper) or back (a heartbeat came in between).
      const back = (await Promise.all(kept.map(async (id) => ((await this.registry.get(id)) ? id : null)))).filter((id) => id !== null);
      await this.identities.withdrawEnded(back, EndReason.REAPED);
    }
    return removed;
  }
}
