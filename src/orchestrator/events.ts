import type { DeploymentEventRecord } from '../domain/deployment-model.js';
import { healthReportFromJson } from '../domain/health-report.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { Topics, type WakeMessage } from '../pubsub/topics.js';

/** A DeploymentEvent as published between replicas: plain JSON, the date as ISO text. */
export type DeploymentEventMessage = Omit<DeploymentEventRecord, 'at' | 'health'> & { at: string; health: unknown };

/** Publishes deployment events once they are persisted, and wakes a deployment's runner on whichever replica holds it. */
export class DeploymentEventPublisher {
  constructor(private readonly pubsub: PubSub) {}

  async publish(events: readonly DeploymentEventRecord[]): Promise<void> {
    for (const e of events) {
      const message: DeploymentEventMessage = { ...e, at: e.at.toISOString() };
      await this.pubsub.publish(Topics.deploymentEvents(e.deploymentId), message);
    }
  }

  /** Makes the runner of `deploymentId` look at it now (or, when none holds it, a replica claim it). */
  async wake(deploymentId: string, reason: WakeMessage['reason']): Promise<void> {
    const message: WakeMessage = { deploymentId, reason };
    await this.pubsub.publish(Topics.deploymentWake, message);
  }

  /** Delivers a deployment's events to `onEvent`; resolves when live, with the stop function. */
  async subscribe(deploymentId: string, onEvent: (event: DeploymentEventRecord) => void): Promise<() => void> {
    const id = await this.pubsub.subscribe<DeploymentEventMessage>(Topics.deploymentEvents(deploymentId), (m) =>
      onEvent({ ...m, at: new Date(m.at), health: m.health === null ? null : healthReportFromJson(m.health) }),
    );
    return () => this.pubsub.unsubscribe(id);
  }
}
