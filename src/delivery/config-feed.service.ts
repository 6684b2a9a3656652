import type { Principal } from '../domain/authorization.js';
import type { DeploymentEventRecord } from '../domain/deployment-model.js';
import { EventType } from '../domain/deployment-model.js';
import { authorize } from '../domain/authorization.js';
import { isFinished } from '../domain/lifecycle/status.js';
import type { ConfigPushHub } from './push-hub.js';
import type { ConfigPush } from './push-message.js';
import type { DeploymentEventPublisher } from '../orchestrator/events.js';
import type { AssignedSnapshots } from './assigned-snapshots.js';
import { AsyncQueue } from './async-queue.js';
import type { SubscriptionLimiter } from '../server/subscription-limiter.js';
import type { DeploymentService } from '../services/deployment.service.js';
import type { InstanceService } from '../services/instance.service.js';

/**
 * The two live feeds: config for an instance (configUpdates) and a
 * deployment's events (deploymentEvents). Each listens before it reads the
 * current state, so nothing published in between is lost, and drops what the
 * snapshot already covered.
 */
export class ConfigFeedService {
  constructor(
    private readonly snapshots: AssignedSnapshots,
    private readonly hub: ConfigPushHub,
    private readonly instances: InstanceService,
    private readonly deployments: DeploymentService,
    private readonly eventPublisher: DeploymentEventPublisher,
    private readonly limiter: SubscriptionLimiter,
  ) {}

  /** First the config assigned to the instance for each of its profiles, then every push to it. */
  async configUpdates(principal: Principal | undefined, instanceId: string): Promise<AsyncIterableIterator<ConfigPush>> {
    const instance = await this.instances.requireSubscriber(principal, instanceId);
    const release = this.limiter.acquire(principal!.sub);
    let stopListening: () => void = () => {};
    let leave: () => Promise<void> = () => Promise.resolve();
    const queue = new AsyncQueue<ConfigPush>(() => {
      stopListening();
      void leave();
      release();
    });
    try {
      const early: ConfigPush[] = [];
      let live = false;
      stopListening = await this.hub.listen(instance, (update) => (live ? queue.push(update) : early.push(update)));
      // Listening before it counts as connected: a deployment that targets it from now on reaches it.
      leave = await this.instances.holdPresence(instance.id);
      const assigned = await this.snapshots.read(instance);
      for (const c of assigned) {
        queue.push({ profileName: c.profileName, version: c.version, hash: c.hash, data: c.data, deploymentId: null, traceparent: null });
      }
      for (const update of early) {
        if (!assigned.some((c) => c.profileName === update.profileName && c.hash === update.hash && c.version === update.version)) {
          queue.push(update);
        }
      }
      live = true;
      return queue;
    } catch (error) {
      await queue.return();
      throw error;
    }
  }

  /** First the deployment's current state as a CURRENT_STATE event, then each event; ends after a terminal one. */
  async deploymentEvents(principal: Principal | undefined, deploymentId: string): Promise<AsyncIterableIterator<DeploymentEventRecord>> {
    const caller = authorize(principal, 'profile:read');
    const release = this.limiter.acquire(caller.sub);
    let stopListening: () => void = () => {};
    const queue = new AsyncQueue<DeploymentEventRecord>(() => {
      stopListening();
      release();
    });
    try {
      const early: DeploymentEventRecord[] = [];
      let live = false;
      const deliver = (e: DeploymentEventRecord) => {
        queue.push(e);
        // A deploymentEvents subscription ends after an event with a finished status.
        if (isFinished(e.status)) queue.end();
      };
      stopListening = await this.eventPublisher.subscribe(deploymentId, (e) => (live ? deliver(e) : early.push(e)));
      const d = await this.deployments.require(deploymentId);
      deliver({
        deploymentId,
        type: EventType.CURRENT_STATE,
        status: d.status,
        phase: d.phase,
        progress: d.result.progress,
        message: d.failureReason ?? d.rollbackReason,
        health: null,
        at: d.updatedAt,
      });
      for (const e of early) if (e.at > d.updatedAt) deliver(e);
      live = true;
      return queue;
    } catch (error) {
      await queue.return();
      throw error;
    }
  }
}
