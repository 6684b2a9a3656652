import type { Environment } from '../domain/enums.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { Topics } from '../pubsub/topics.js';
import type { ConfigPush, PushMessage } from './push-message.js';

type Deliver = (update: ConfigPush) => void;

interface Group {
  /** instance id → the subscriptions of that instance on this replica. */
  subscribers: Map<string, Set<Deliver>>;
  subscription: Promise<number>;
}

/**
 * Delivers config pushes to the instances subscribed on this replica. One
 * pub/sub subscription per (service, environment) with local subscribers, and
 * one published message per push however many targets it has: a message is
 * routed to its targets by map lookups, with no per-subscriber filtering and no
 * database reads on the push path.
 */
export class ConfigPushHub {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly pubsub: PubSub,
    /** Told when this replica handed a push to its subscribers, with the push's publish time (metrics). */
    private readonly onDelivered?: (publishedAt: number) => void,
  ) {}

  publish(message: PushMessage): Promise<void> {
    return this.pubsub.publish(Topics.push(message.service, message.environment), { ...message, publishedAt: Date.now() });
  }

  /** Starts delivering pushes for `instance` to `deliver`; resolves once the pub/sub subscription is live. Returns the stop function. */
  async listen(instance: { id: string; service: string; environment: Environment }, deliver: Deliver): Promise<() => void> {
    const topic = Topics.push(instance.service, instance.environment);
    let group = this.groups.get(topic);
    if (!group) {
      const created: Group = {
        subscribers: new Map(),
        subscription: this.pubsub.subscribe<PushMessage>(topic, (message) => this.route(created, message)),
      };
      group = created;
      this.groups.set(topic, group);
    }
    const own = group.subscribers.get(instance.id) ?? new Set<Deliver>();
    own.add(deliver);
    group.subscribers.set(instance.id, own);
    const g = group;
    try {
      await g.subscription;
    } catch (error) {
      // The pub/sub subscription failed: forget the group so the next listen tries again.
      own.delete(deliver);
      if (this.groups.get(topic) === g) this.groups.delete(topic);
      throw error;
    }
    return () => {
      own.delete(deliver);
      if (own.size === 0) g.subscribers.delete(instance.id);
      if (g.subscribers.size === 0 && this.groups.get(topic) === g) {
        this.groups.delete(topic);
        // An unsubscribe that fails (the Redis connection closed) has nothing left to undo; it must not reject unhandled.
        void g.subscription.then((id) => this.pubsub.unsubscribe(id)).catch(() => undefined);
      }
    };
  }

  /** Local subscriptions, for metrics. */
  get subscriberCount(): number {
    let n = 0;
    for (const g of this.groups.values()) for (const s of g.subscribers.values()) n += s.size;
    return n;
  }

  private route(group: Group, message: PushMessage): void {
    const { targets, update } = message;
    if (targets === null) {
      for (const delivers of group.subscribers.values()) for (const d of delivers) d(update);
    } else if (targets.length <= group.subscribers.size) {
      for (const id of targets) group.subscribers.get(id)?.forEach((d) => d(update));
    } else {
      const wanted = new Set(targets);
      for (const [id, delivers] of group.subscribers) if (wanted.has(id)) for (const d of delivers) d(update);
    }
    if (message.publishedAt !== undefined) this.onDelivered?.(message.publishedAt);
  }
}
