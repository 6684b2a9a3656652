/*
 * Which instances hold a config subscription, shared by the replicas in Redis
 * ({p} = the registry's key prefix):
 *
 *   {p}presence:{id}       HASH r:{replica} → open subscriptions of the instance on that
 *                               replica; disconnectedAt (epoch ms, '' while connected);
 *                               expires a day after its last subscription closed
 *   {p}replica:{replica}   STRING, expires: the replica is alive (kept by keep())
 *
 * A subscription counts only while its replica's key exists: the sockets of a
 * replica that died stop counting when its key expires, instead of leaving
 * counts behind. When Redis comes back empty, each replica finds its key gone
 * on its next keep() and writes its subscriptions again, so presence survives
 * a lost Redis as the registrations do (restored from instance tokens).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Presence } from './instance-registry.js';

/**
 * Lua: the subscriptions of instance `id` on live replicas (P: the prefix).
 * Shared by the scripts that need it (liveInstances, remove).
 */
export const CONNECTIONS_OF = `
local function connectionsOf(P, id)
  local h = redis.call('HGETALL', P .. 'presence:' .. id)
  local n = 0
  for i = 1, #h, 2 do
    local field = h[i]
    if string.sub(field, 1, 2) == 'r:' and redis.call('EXISTS', P .. 'replica:' .. string.sub(field, 3)) == 1 then
      n = n + tonumber(h[i + 1])
    end
  end
  return n
end
`;

/** KEYS 1: presence, 2: this replica's key; ARGV 1: this replica. Returns 0 when the replica's key is gone (keep() must run). */
const CONNECT = `
redis.call('HINCRBY', KEYS[1], 'r:' .. ARGV[1], 1)
redis.call('HSET', KEYS[1], 'disconnectedAt', '')
redis.call('PERSIST', KEYS[1])
return redis.call('EXISTS', KEYS[2])
`;

/**
 * KEYS 1: presence, 2: the instance record; ARGV 1: prefix, 2: id, 3: this replica,
 * 4: atMs, 5: seconds to keep it once nothing is connected. Nothing is kept of a
 * deregistered instance.
 */
const DISCONNECT = `${CONNECTIONS_OF}
local field = 'r:' .. ARGV[3]
if redis.call('HINCRBY', KEYS[1], field, -1) <= 0 then redis.call('HDEL', KEYS[1], field) end
if connectionsOf(ARGV[1], ARGV[2]) > 0 then return end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('DEL', KEYS[1]); return end
redis.call('HSET', KEYS[1], 'disconnectedAt', ARGV[4])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
`;

/** ARGV 1: prefix, 2…: ids. Per id: connections, disconnectedAt ('' for none), or -1 for no presence at all. */
const PRESENCE = `${CONNECTIONS_OF}
local out = {}
for i = 2, #ARGV do
  local key = ARGV[1] .. 'presence:' .. ARGV[i]
  if redis.call('EXISTS', key) == 0 then
    out[#out + 1] = -1; out[#out + 1] = ''
  else
    out[#out + 1] = connectionsOf(ARGV[1], ARGV[i])
    out[#out + 1] = redis.call('HGET', key, 'disconnectedAt') or ''
  end
end
return out
`;

/** A replica's subscriptions stop counting this long after its last keep(). */
export const PRESENCE_TTL_MS = 10_000;
/** How often each replica runs keep(): a few times per TTL, so a slow run does not lapse it. */
export const PRESENCE_KEEP_MS = 2_500;

/** A presence with nothing connected is kept this long (the reconnect grace is far shorter). */
const KEPT_SECONDS = 86_400;

type PresenceClient = Redis & {
  hotswapPresenceConnect(presence: string, replica: string, replicaId: string): Promise<number>;
  hotswapPresenceDisconnect(presence: string, instance: string, prefix: string, id: string, replicaId: string, atMs: number, keptSeconds: number): Promise<unknown>;
  hotswapPresenceRead(prefix: string, ...ids: string[]): Promise<Array<number | string>>;
};

/** This replica's side of the shared presence: it counts its own subscriptions, so it can write them again. */
export class RedisPresence {
  private readonly redis: PresenceClient;
  /** Open subscriptions per instance on this replica. */
  private readonly local = new Map<string, number>();

  /** @param replicaId - unique per process @default a random UUID */
  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
    private readonly replicaId: string = randomUUID(),
    private readonly ttlMs = PRESENCE_TTL_MS,
  ) {
    redis.defineCommand('hotswapPresenceConnect', { numberOfKeys: 2, lua: CONNECT });
    redis.defineCommand('hotswapPresenceDisconnect', { numberOfKeys: 2, lua: DISCONNECT });
    redis.defineCommand('hotswapPresenceRead', { numberOfKeys: 0, lua: PRESENCE });
    this.redis = redis as PresenceClient;
  }

  async connected(id: string): Promise<void> {
    this.local.set(id, (this.local.get(id) ?? 0) + 1);
    let alive: number;
    try {
      alive = await this.redis.hotswapPresenceConnect(this.presenceKey(id), this.replicaKey(), this.replicaId);
    } catch (error) {
      // The subscription fails with this error: keep() must not write it again later.
      this.forget(id);
      throw error;
    }
    if (alive === 0) await this.keep();
  }

  async disconnected(id: string, at: Date): Promise<void> {
    this.forget(id);
    await this.redis.hotswapPresenceDisconnect(this.presenceKey(id), `${this.keyPrefix}instance:${id}`, this.keyPrefix, id, this.replicaId, at.getTime(), KEPT_SECONDS);
  }

  async read(ids: readonly string[]): Promise<Map<string, Presence>> {
    const out = new Map<string, Presence>();
    if (ids.length === 0) return out;
    const flat = await this.redis.hotswapPresenceRead(this.keyPrefix, ...ids);
    ids.forEach((id, i) => {
      const connections = Number(flat[2 * i]);
      const at = String(flat[2 * i + 1] ?? '');
      if (connections >= 0) out.set(id, { connections, disconnectedAt: at ? new Date(Number(at)) : null });
    });
    return out;
  }

  /**
   * Keeps this replica's key alive; when it was gone (first run, a stall past
   * its TTL, or an emptied Redis), writes this replica's subscriptions again.
   */
  async keep(): Promise<void> {
    const created = await this.redis.set(this.replicaKey(), '1', 'PX', this.ttlMs, 'NX');
    if (created === null && (await this.redis.pexpire(this.replicaKey(), this.ttlMs)) === 1) return;
    if (created === null) await this.redis.set(this.replicaKey(), '1', 'PX', this.ttlMs);
    if (this.local.size === 0) return;
    const pipe = this.redis.pipeline();
    for (const [id, n] of this.local) pipe.hset(this.presenceKey(id), `r:${this.replicaId}`, n, 'disconnectedAt', '').persist(this.presenceKey(id));
    await pipe.exec();
  }

  /** One subscription of `id` on this replica fewer. */
  private forget(id: string): void {
    const left = (this.local.get(id) ?? 0) - 1;
    if (left > 0) this.local.set(id, left);
    else this.local.delete(id);
  }

  private presenceKey(id: string): string {
    return `${this.keyPrefix}presence:${id}`;
  }
  private replicaKey(): string {
    return `${this.keyPrefix}replica:${this.replicaId}`;
  }
}
