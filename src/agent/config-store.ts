/**
 * The configs `hotswap agent` has delivered to its service, per profile: what the
 * local HTTP endpoint serves, and what its long-polls wait on.
 */
import type { ConfigView, DeliveredConfig } from './agent-types.js';

/** One pending {@link DeliveredConfigs.changed}: the hash it is waiting to see replaced. */
interface Waiter {
  hash: string | null;
  wake(config: DeliveredConfig): void;
}

/**
 * Holds the last config delivered per profile and wakes whoever waits for it to change.
 *
 * Only configs the service took go in: the agent calls {@link set} after a
 * delivery succeeded, so the endpoint never serves a config the service rejected
 * (issue 17, "never replaces a good file with a config that failed to apply").
 * Versions are not checked to only go up: a rollback delivers an older version,
 * and that older version is then what the service runs.
 *
 * Waits cost one entry in a per-profile set and one abort listener; both are
 * removed on wake and on abort, so clients that give up (long-polls whose caller
 * hangs up) leave nothing behind — a sidecar runs for months.
 */
export class DeliveredConfigs implements ConfigView {
  private readonly configs = new Map<string, DeliveredConfig>();
  private readonly waiters = new Map<string, Set<Waiter>>();

  /** Records a config the service took, and wakes the waits it answers (those whose hash it differs from). */
  set(config: DeliveredConfig): void {
    this.configs.set(config.profileName, config);
    const waiting = this.waiters.get(config.profileName);
    if (!waiting) return;
    // Copied: each wake removes its waiter from the set.
    for (const waiter of [...waiting]) {
      if (waiter.hash !== config.hash) waiter.wake(config);
    }
  }

  get(profileName: string): DeliveredConfig | undefined {
    return this.configs.get(profileName);
  }

  /** Profile names with a delivered config, sorted so listings are stable. */
  profiles(): string[] {
    return [...this.configs.keys()].sort();
  }

  /**
   * Resolves with the profile's config once its hash differs from `hash` — at
   * once if it already does (`hash` null: as soon as there is any config) — or
   * with undefined when `signal` aborts first (also when it already has).
   */
  changed(profileName: string, hash: string | null, signal: AbortSignal): Promise<DeliveredConfig | undefined> {
    const current = this.configs.get(profileName);
    if (current && current.hash !== hash) return Promise.resolve(current);
    if (signal.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let waiting = this.waiters.get(profileName);
      if (!waiting) this.waiters.set(profileName, (waiting = new Set()));
      const set = waiting;
      const finish = (config: DeliveredConfig | undefined): void => {
        signal.removeEventListener('abort', onAbort);
        set.delete(waiter);
        if (set.size === 0 && this.waiters.get(profileName) === set) this.waiters.delete(profileName);
        resolve(config);
      };
      const onAbort = (): void => finish(undefined);
      const waiter: Waiter = { hash, wake: finish };
      set.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** How many {@link changed} calls are pending, over all profiles: for health detail and for tests that check nothing leaks. */
  pendingWaits(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }
}
