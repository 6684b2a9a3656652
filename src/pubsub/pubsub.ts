import { RedisPubSub } from 'graphql-redis-subscriptions';
import { PubSub as InProcessPubSub, type PubSubEngine } from 'graphql-subscriptions';
import { Redis } from 'ioredis';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';

/** Publish/subscribe between replicas: Redis when configured, in process otherwise. */
export interface PubSub {
  publish(topic: string, payload: unknown): Promise<void>;
  /** Resolves once the subscription is live, with its id for unsubscribe. */
  subscribe<T>(topic: string, onMessage: (payload: T) => void): Promise<number>;
  unsubscribe(id: number): void;
  close(): Promise<void>;
}

function wrap(engine: PubSubEngine, prefix: string, close: () => Promise<void>): PubSub {
  return {
    publish: (topic, payload) => engine.publish(prefix + topic, payload),
    subscribe: (topic, onMessage) => engine.subscribe(prefix + topic, onMessage, {}),
    unsubscribe: (id) => engine.unsubscribe(id),
    close,
  };
}

/**
 * RedisPubSub (graphql-redis-subscriptions) over two ioredis connections when
 * `redisUrl` is set; every channel starts with `prefix` (HOTSWAP_REDIS_PREFIX).
 * Publishes made while Redis is unreachable wait in ioredis's
 * offline queue and go out on reconnect; subscriptions are restored on reconnect.
 */
export function createPubSub(redisUrl: string | undefined, logger: Logger, prefix = 'hotswap:'): PubSub {
  if (redisUrl === undefined) {
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    return wrap(new InProcessPubSub({ eventEmitter: emitter }), prefix, async () => {});
  }
  const options = { maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 100, 2000) };
  const publisher = new Redis(redisUrl, options);
  const subscriber = new Redis(redisUrl, options);
  for (const [role, client] of [['publisher', publisher], ['subscriber', subscriber]] as const) {
    client.on('error', (error) => logger.warn({ err: error, role }, 'redis pub/sub connection error'));
  }
  settleUnsubscribes(subscriber, logger);
  const engine = new RedisPubSub({ publisher, subscriber });
  return wrap(engine, prefix, async () => {
    await engine.close();
  });
}

/**
 * RedisPubSub.unsubscribe sends UNSUBSCRIBE and PUNSUBSCRIBE on the subscriber
 * connection without awaiting them: one that fails (the connection closed at
 * shutdown, or during an outage) would reject unhandled and, under vitest or
 * with --unhandled-rejections=strict, end the process. On this connection of
 * ours, a failure there is logged at debug: the subscription went with the
 * connection.
 */
function settleUnsubscribes(subscriber: Redis, logger: Logger): void {
  for (const name of ['unsubscribe', 'punsubscribe'] as const) {
    const send = subscriber[name].bind(subscriber) as (...channels: string[]) => Promise<unknown>;
    const settled = (...channels: string[]) =>
      send(...channels).catch((error: unknown) => {
        logger.debug({ err: error, channels }, `redis ${name} failed; the subscription ended with its connection`);
        return 0;
      });
    (subscriber as unknown as Record<typeof name, typeof settled>)[name] = settled;
  }
}
