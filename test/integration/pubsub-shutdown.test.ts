import pino from 'pino';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createPubSub } from '../../src/pubsub/pubsub.js';

describe('Redis pub/sub at shutdown', () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);
  afterEach(() => void process.off('unhandledRejection', record));

  it('an unsubscribe whose connection has closed settles: no unhandled rejection', async () => {
    process.on('unhandledRejection', record);
    const pubsub = createPubSub(inject('redisUrl'), pino({ level: 'silent' }), `test:pubsub-shutdown:${process.pid}:`);
    const id = await pubsub.subscribe('topic', () => {});
    await pubsub.close();
    pubsub.unsubscribe(id);
    await new Promise((r) => setTimeout(r, 300));
    expect(unhandled).toEqual([]);
  });
});
