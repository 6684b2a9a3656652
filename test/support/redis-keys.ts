import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * A Redis key prefix of the test's own, outside `test:*`: another vitest run's
 * teardown deletes every `test:*` key of the shared Redis, which would empty
 * the registry in the middle of a test that empties it on purpose.
 */
export function ownRedisPrefix(label: string): string {
  return `hotswap-${label}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix`, as a Redis restarted empty would have lost them (FLUSHDB of this test's keys). */
export async function deleteKeysUnder(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
