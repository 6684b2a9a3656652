import type { CachedConfig, ConfigCache } from './config-cache.js';
import { describeError } from './graphql-http.js';
import { inApplySpan } from './apply-span.js';
import type { AckVariables, Identity } from './operations.js';
import type { ClientLogger, ConfigUpdate } from './types.js';

/** Sends one ack; resolves true when HotSwap accepted it. Never rejects. */
export type SendAck = (identity: Identity, ack: Omit<AckVariables, 'instanceId'>) => Promise<boolean>;

interface Applied {
  update: ConfigUpdate;
  reloadMs: number | null;
  /** The instance id that acknowledged this config, so a re-sent copy is acked once per registration. */
  ackedBy: string | undefined;
}

export interface ApplierOptions {
  onConfig: (update: ConfigUpdate) => void | Promise<void>;
  cache: ConfigCache | undefined;
  sendAck: SendAck;
  logger: ClientLogger;
}

/**
 * Applies configs one at a time, in arrival order: calls onConfig, times it,
 * keeps the last applied config per profile (and writes them to the cache),
 * and acks. An update equal (profile, version, hash) to the one applied is not
 * applied again; it is acked only when this registration has not acked it yet,
 * or when a deployment pushed it (the deployment waits for that ack).
 */
export class ConfigApplier {
  private readonly applied = new Map<string, Applied>();
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: ApplierOptions) {}

  /** The update last applied for the profile. */
  current(profileName: string): ConfigUpdate | undefined {
    return this.applied.get(profileName)?.update;
  }

  /** Queues an update from HotSwap, to be applied and acked as `identity`. */
  receive(update: ConfigUpdate, identity: Identity): Promise<void> {
    return this.enqueue(() => this.handle(update, identity));
  }

  /** Queues the cached configs (with deploymentId null); they are not acked, there is nothing to ack them to yet. */
  restore(configs: CachedConfig[]): Promise<void> {
    return this.enqueue(async () => {
      for (const c of configs) {
        const update: ConfigUpdate = { profileName: c.profileName, version: c.version, hash: c.hash, data: c.data, deploymentId: null, traceparent: null };
        const pristine = structuredClone(c.data);
        const outcome = await this.apply(update);
        if (outcome.ok) {
          this.applied.set(c.profileName, {
            update: { ...update, data: pristine },
            reloadMs: c.reloadMs ?? outcome.reloadMs,
            ackedBy: undefined,
          });
          this.o.logger.info('applied the cached config', { profileName: c.profileName, version: c.version });
        } else {
          this.o.logger.warn('applying the cached config failed', { profileName: c.profileName, version: c.version, error: outcome.error });
        }
      }
    });
  }

  /** Drops what is still queued; resolves when the update being applied (if any) is done. */
  close(): Promise<void> {
    this.closed = true;
    return this.tail;
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.closed) return;
      try {
        await task();
      } catch (error) {
        this.o.logger.error('unexpected error while applying a config', describeError(error));
      }
    });
    this.tail = run;
    return run;
  }

  private async handle(update: ConfigUpdate, identity: Identity): Promise<void> {
    const { profileName, version } = update;
    const current = this.applied.get(profileName);
    if (current && current.update.version === version && current.update.hash === update.hash) {
      if (update.deploymentId !== null || current.ackedBy !== identity.instanceId) {
        const acked = await this.o.sendAck(identity, { profileName, version, success: true, reloadMs: current.reloadMs, error: null });
        if (acked) current.ackedBy = identity.instanceId;
      }
      return;
    }
    const pristine = structuredClone(update.data); // what HotSwap sent, whatever onConfig does to its argument
    const { outcome, traceparent } = await inApplySpan(update, () => this.apply(update));
    if (!outcome.ok) {
      this.o.logger.warn('onConfig failed', { profileName, version, deploymentId: update.deploymentId, error: outcome.error });
      await this.o.sendAck(identity, { profileName, version, success: false, reloadMs: outcome.reloadMs, error: outcome.error, traceparent });
      return;
    }
    const entry: Applied = { update: { ...update, data: pristine }, reloadMs: outcome.reloadMs, ackedBy: undefined };
    this.applied.set(profileName, entry);
    this.o.logger.info('applied config', { profileName, version, deploymentId: update.deploymentId, reloadMs: outcome.reloadMs });
    await this.saveCache();
    if (await this.o.sendAck(identity, { profileName, version, success: true, reloadMs: outcome.reloadMs, error: null, traceparent })) {
      entry.ackedBy = identity.instanceId;
    }
  }

  private async apply(update: ConfigUpdate): Promise<{ ok: true; reloadMs: number } | { ok: false; reloadMs: number; error: string }> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
    try {
      await this.o.onConfig(update);
      return { ok: true, reloadMs: elapsed() };
    } catch (error) {
      const reloadMs = elapsed();
      const message = describeError(error).message;
      return { ok: false, reloadMs, error: message === '' ? 'onConfig failed' : message };
    }
  }

  private async saveCache(): Promise<void> {
    if (!this.o.cache) return;
    const configs: CachedConfig[] = [...this.applied.values()].map(({ update, reloadMs }) => ({
      profileName: update.profileName,
      version: update.version,
      hash: update.hash,
      data: update.data,
      reloadMs,
    }));
    try {
      await this.o.cache.write(configs);
    } catch (error) {
      this.o.logger.warn('could not write the config cache', { file: this.o.cache.file, ...describeError(error) });
    }
  }
}
