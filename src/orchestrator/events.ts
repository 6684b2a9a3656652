import type { DeploymentEventRecord } from '../domain/deployment-model.js';
import { healthReportFromJson } from '../domain/health.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { Topics } from '../pubsub/topics.js';

/** A DeploymentEvent as published between replicas: plain JSON, the date as ISO text. */
export type DeploymentEventMessage = Omit<DeploymentEventRecord, 'at' | 'health'> & { at: string; health: unknown };

/** Publishes deployment events once they are persisted. */
export class DeploymentEventPublisher {
  constructor(private readonly pubsub: PubSub) {}

  async publish(events: readonly DeploymentEventRecord[]): Promise<void> {
    for (const e of events) {
      const message: DeploymentEventMessage = { ...e, at: e.at.toISOString() };
      await this.pubsub.publish(Topics.deploymentEvents(e.deploymentId), message);
    }
  }

  /** Delivers a deployment's events to `onEvent`; resolves when live, with the stop function. */
  async subscribe(deploymentId: string, onEvent: (event: DeploymentEventRecord) => void): Promise<() => void> {
    const id = await this.pubsub.subscribe<DeploymentEventMessage>(Topics.deploymentEvents(deploymentId), (m) =>
      onEvent({ ...m, at: new Date(m.at), health: m.health === null ? null : healthReportFromJson(m.health) }),
    );
    return () => this.pubsub.unsubscribe(id);
  }
}
