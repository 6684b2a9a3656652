import type { Principal } from '../domain/authorization.js';
import { type EndReason, endedRetentionSeconds, restorableIdentity } from '../domain/instance-identity.js';
import type { InstanceRecord, InstanceRegistry } from '../registry/instance-registry.js';
import type { Database } from '../store/database.js';

/**
 * Instance identities across a lost registry (src/domain/instance-identity.ts):
 * restores a registration the registry lost from the caller's INSTANCE token,
 * and keeps the ids of ended instances in PostgreSQL so that no token brings
 * them back.
 *
 * Ordering makes the two safe against each other without a lock: an end is
 * recorded before the registry forgets the instance, and a restore looks for
 * an end both before and after it writes, undoing its write when one appeared.
 */
export class InstanceIdentityService {
  constructor(
    private readonly registry: InstanceRegistry,
    private readonly db: Database,
    /** The instance token lifetime: how long an ended id must be kept. */
    private readonly tokenTtlSeconds: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The instance's record from the registry, or restored from the caller's token; null when neither. */
  async find(principal: Principal | undefined, instanceId: string): Promise<InstanceRecord | null> {
    return (await this.registry.get(instanceId)) ?? this.restore(principal, instanceId);
  }

  /**
   * Restores the registration of `instanceId` from the caller's token: null
   * when the token cannot restore it (not that instance's INSTANCE token) or
   * the instance ended. A record that is there is returned as it is.
   */
  async restore(principal: Principal | undefined, instanceId: string): Promise<InstanceRecord | null> {
    const identity = restorableIdentity(principal, instanceId);
    if (identity === null || (await this.hasEnded(instanceId))) return null;
    const { host, service, environment, color } = identity;
    const record = await this.registry.restore({ id: instanceId, service, environment, host, color, metadata: null, registeredAt: this.now() });
    if (await this.hasEnded(instanceId)) {
      // Ended while we restored: its end was recorded before the registry forgot it, so this write came after; undo it.
      await this.registry.deregister(instanceId);
      return null;
    }
    return record;
  }

  /** True when the caller's token could restore the instance (see restore), without restoring it. */
  async isRestorable(principal: Principal | undefined, instanceId: string): Promise<boolean> {
    return restorableIdentity(principal, instanceId) !== null && !(await this.hasEnded(instanceId));
  }

  /** Records that the instances ended; call it before the registry forgets them. */
  async recordEnded(instanceIds: readonly string[], reason: EndReason): Promise<void> {
    if (instanceIds.length === 0) return;
    await this.db.transaction((r) => r.endedInstances.record(instanceIds, reason));
  }

  /** Takes back ends recorded for `reason` of instances that turned out to stay (see InstanceReaper). */
  async withdrawEnded(instanceIds: readonly string[], reason: EndReason): Promise<void> {
    if (instanceIds.length === 0) return;
    await this.db.transaction((r) => r.endedInstances.withdraw(instanceIds, reason));
  }

  /** Forgets the ended ids no valid token can name any more; returns how many. */
  forgetExpired(): Promise<number> {
    return this.db.transaction((r) => r.endedInstances.forgetOlderThan(endedRetentionSeconds(this.tokenTtlSeconds)));
  }

  private hasEnded(instanceId: string): Promise<boolean> {
    return this.db.read((r) => r.endedInstances.hasEnded(instanceId));
  }
}
