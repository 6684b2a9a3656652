/*
 * Redis key layout ({p} = keyPrefix, 'hotswap:' by default; dates are epoch ms;
 * docs/redis-keys.md explains it at more length):
 *
 *   {p}instance:{id}                     HASH service, environment, host, color, metadata (JSON),
 *                                             status, registeredAt, lastHeartbeatAt, metrics (JSON),
 *                                             staleSince, degradedAt; '' stands for null
 *   {p}history:{id}                      LIST {"at":ms,"metrics":{…}} samples, newest first, capped
 *   {p}instances:all                     ZSET id → registeredAt (list without a service filter)
 *   {p}instances:by-service:{env}:{svc}  ZSET id → registeredAt (list by service, liveInstances)
 *   {p}instances:by-heartbeat            ZSET id → lastHeartbeatAt, non-STALE only (markStale)
 *   {p}instances:stale                   ZSET id → staleSince, STALE only (removeStale)
 *   {p}instances:status:{STATUS}         SET  ids per status (countByStatus, list by status)
 *   {p}presence:{id}, {p}replica:{r}     which instances hold a subscription: redis-presence.ts
 *
 * Every write is one Lua script, so a record and its index entries change
 * together; heartbeat, setStatus, recover and markStale check that the hash exists, so
 * they never resurrect an instance deregistered concurrently. Scripts derive the
 * by-service key of a stored record inside Lua: single Redis, not Cluster.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { type Color, Environment, InstanceStatus } from '../domain/enums.js';
import type { InstanceMetrics } from '../domain/instance.js';
import type { JsonObject } from '../domain/json.js';
import type { InstanceFilter, InstanceRecord, InstanceRegistry, LiveInstance, MetricsSample, NewInstance, Presence, ServiceCount } from './instance-registry.js';
import { METRICS_HISTORY_LENGTH } from './instance-registry.js';
import { byRegistration, matchesFilter, staleNotSettable } from './memory-registry.js';
import { RedisPresence } from './redis-presence.js';
import { LIVE_INSTANCES, SCRIPTS, type Scripts, STORING } from './redis-registry-scripts.js';

const STATUSES = [InstanceStatus.HEALTHY, InstanceStatus.DEGRADED, InstanceStatus.STALE] as const;

type RegistryClient = Redis &
  Scripts<Promise<unknown>> & {
    hotswapRegistryLiveInstances(key: string, prefix: string): Promise<string[]>;
  };

/**
 * The registry shared by all replicas. The connection belongs to the caller:
 * close() leaves it open (the composition root quits it once, after everyone).
 */
export class RedisInstanceRegistry implements InstanceRegistry {
  private readonly redis: RegistryClient;
  private readonly presences: RedisPresence;

  /**
   * @param keyPrefix - prepended to every key, so tests or tenants can share one Redis @default 'hotswap:'
   * @param replicaId - this process among the replicas (its subscriptions count while it is alive) @default a random UUID
   */
  constructor(redis: Redis, private readonly keyPrefix = 'hotswap:', replicaId?: string) {
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, { numberOfKeys: STORING.has(name) ? 9 : 8, lua });
    }
    redis.defineCommand('hotswapRegistryLiveInstances', { numberOfKeys: 1, lua: LIVE_INSTANCES });
    this.redis = redis as RegistryClient;
    this.presences = new RedisPresence(redis, keyPrefix, replicaId);
  }

  /** Registering an id that is already there replaces it and drops its history. */
  async register(instance: NewInstance): Promise<InstanceRecord> {
    const { id, service, environment, host, color, metadata } = instance;
    const at = instance.registeredAt.getTime();
    await this.redis.hotswapRegistryRegister(...this.storeArgs(instance));
    const json = metadata === null ? '' : JSON.stringify(metadata);
    const hash = { service, environment, host, color: color ?? '', metadata: json, status: InstanceStatus.HEALTHY };
    return toRecord(id, { ...hash, registeredAt: String(at), lastHeartbeatAt: String(at) })!;
  }

  async restore(instance: NewInstance): Promise<InstanceRecord> {
    const reply = await this.redis.hotswapRegistryRestore(...this.storeArgs(instance));
    return toRecord(instance.id, fromFlat(reply))!;
  }

  async get(id: string): Promise<InstanceRecord | null> {
    return toRecord(id, await this.redis.hgetall(this.instanceKey(id)));
  }

  async list(filter: InstanceFilter): Promise<InstanceRecord[]> {
    const ids = await this.candidates(filter);
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.instanceKey(id));
    const hashes = results<Record<string, string>>(await pipe.exec());
    const records: InstanceRecord[] = [];
    hashes.forEach((hash, i) => {
      const record = toRecord(ids[i]!, hash);
      if (record && matchesFilter(record, filter)) records.push(record);
    });
    return records.sort(byRegistration);
  }

  async liveInstances(service: string, environment: Environment): Promise<LiveInstance[]> {
    const flat = await this.redis.hotswapRegistryLiveInstances(this.serviceKey(service, environment), this.keyPrefix);
    const live: LiveInstance[] = [];
    for (let i = 0; i < flat.length; i += 2) live.push({ id: flat[i]!, color: flat[i + 1] ? (flat[i + 1] as Color) : null });
    return live;
  }

  async heartbeat(id: string, at: Date, metrics: InstanceMetrics | null): Promise<InstanceRecord | null> {
    const ms = at.getTime();
    const [json, sample] = metrics === null ? ['', ''] : [JSON.stringify(metrics), JSON.stringify({ at: ms, metrics })];
    const args = [this.keyPrefix, id, ms, json, sample, METRICS_HISTORY_LENGTH];
    const reply = await this.redis.hotswapRegistryHeartbeat(...this.keys(id), ...args);
    return toRecord(id, fromFlat(reply));
  }

  async history(id: string, limit: number): Promise<MetricsSample[]> {
    return (await this.histories([id], limit)).get(id) ?? [];
  }

  async histories(ids: readonly string[], limit: number): Promise<Map<string, MetricsSample[]>> {
    const count = Math.min(Math.floor(limit), METRICS_HISTORY_LENGTH);
    const out = new Map<string, MetricsSample[]>(ids.map((id) => [id, []]));
    if (!(count > 0) || ids.length === 0) return out;
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.lrange(this.k(`history:${id}`), 0, count - 1);
    results<string[]>(await pipe.exec()).forEach((raw, i) => {
      out.set(ids[i]!, raw.map((json) => {
        const sample = JSON.parse(json) as { at: number; metrics: InstanceMetrics };
        return { at: new Date(sample.at), metrics: sample.metrics };
      }));
    });
    return out;
  }

  /**
   * Leaving STALE this way clears `staleSince`; the reaper marks the instance
   * again if it stays silent.
   *
   * @throws BadInputError for STALE: only markStale sets it (it needs `now`)
   */
  async setStatus(id: string, status: InstanceStatus, at: Date = new Date()): Promise<InstanceRecord | null> {
    if (status === InstanceStatus.STALE) throw staleNotSettable();
    const reply = await this.redis.hotswapRegistrySetStatus(...this.keys(id), this.keyPrefix, id, status, at.getTime());
    return toRecord(id, fromFlat(reply));
  }

  async recover(id: string, degradedAt: Date): Promise<boolean> {
    return (await this.redis.hotswapRegistryRecover(...this.keys(id), this.keyPrefix, id, degradedAt.getTime())) === 1;
  }

  async statuses(ids: readonly string[]): Promise<Map<string, InstanceStatus>> {
    const out = new Map<string, InstanceStatus>();
    if (ids.length === 0) return out;
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hget(this.instanceKey(id), 'status');
    results<string | null>(await pipe.exec()).forEach((status, i) => {
      if (status) out.set(ids[i]!, status as InstanceStatus);
    });
    return out;
  }

  connected(id: string): Promise<void> {
    return this.presences.connected(id);
  }

  disconnected(id: string, at: Date): Promise<void> {
    return this.presences.disconnected(id, at);
  }

  presence(ids: readonly string[]): Promise<Map<string, Presence>> {
    return this.presences.read(ids);
  }

  keepPresence(): Promise<void> {
    return this.presences.keep();
  }

  async deregister(id: string): Promise<boolean> {
    return (await this.redis.hotswapRegistryRemove(...this.keys(id), this.keyPrefix, id, '')) === 1;
  }

  async markStale(cutoff: Date, now: Date): Promise<string[]> {
    const ids = await this.redis.zrangebyscore(this.k('instances:by-heartbeat'), '-inf', `(${cutoff.getTime()}`);
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline() as ChainableCommander & Scripts<ChainableCommander>;
    for (const id of ids) pipe.hotswapRegistryMarkStale(...this.keys(id), this.keyPrefix, id, cutoff.getTime(), now.getTime());
    const marked = results<number>(await pipe.exec());
    return ids.filter((_, i) => marked[i] === 1);
  }

  async removeStale(cutoff: Date): Promise<string[]> {
    const ids = await this.redis.zrangebyscore(this.k('instances:stale'), '-inf', `(${cutoff.getTime()}`);
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline() as ChainableCommander & Scripts<ChainableCommander>;
    for (const id of ids) pipe.hotswapRegistryRemove(...this.keys(id), this.keyPrefix, id, cutoff.getTime());
    const removed = results<number>(await pipe.exec());
    return ids.filter((_, i) => removed[i] === 1);
  }

  async countByStatus(): Promise<Record<InstanceStatus, number>> {
    const pipe = this.redis.pipeline();
    for (const status of STATUSES) pipe.scard(this.statusKey(status));
    const sizes = results<number>(await pipe.exec());
    return Object.fromEntries(STATUSES.map((status, i) => [status, sizes[i] ?? 0])) as Record<InstanceStatus, number>;
  }

  /** One SCAN over the by-service indexes, then one ZINTERCARD per service and status in a pipeline (Redis ≥ 7). */
  async countByService(): Promise<ServiceCount[]> {
    const prefix = this.k('instances:by-service:');
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const key of keys) for (const status of STATUSES) pipe.call('ZINTERCARD', 2, key, this.statusKey(status));
    const counts = results<number>(await pipe.exec());
    const out: ServiceCount[] = [];
    keys.forEach((key, k) => {
      const rest = key.slice(prefix.length);
      const colon = rest.indexOf(':');
      const environment = rest.slice(0, colon) as Environment;
      const service = rest.slice(colon + 1);
      STATUSES.forEach((status, s) => {
        const count = Number(counts[k * STATUSES.length + s] ?? 0);
        if (count > 0) out.push({ service, environment, status, count });
      });
    });
    return out;
  }

  /** Leaves the connection open: it belongs to whoever passed it in. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Ids that may match, from the narrowest index; `list` checks every field anyway. */
  private async candidates(filter: InstanceFilter): Promise<string[]> {
    const { service, environment, status } = filter;
    if (service !== undefined) {
      const envs = environment !== undefined ? [environment] : Object.values(Environment);
      const pipe = this.redis.pipeline();
      for (const env of envs) pipe.zrange(this.serviceKey(service, env), 0, -1);
      return results<string[]>(await pipe.exec()).flat();
    }
    if (status !== undefined) return this.redis.smembers(this.statusKey(status));
    return this.redis.zrange(this.k('instances:all'), 0, -1);
  }

  private k(suffix: string): string {
    return `${this.keyPrefix}${suffix}`;
  }
  private instanceKey(id: string): string {
    return this.k(`instance:${id}`);
  }
  private statusKey(status: InstanceStatus): string {
    return this.k(`instances:status:${status}`);
  }
  private serviceKey(service: string, environment: Environment): string {
    return this.k(`instances:by-service:${environment}:${service}`);
  }
  /** KEYS and ARGV of the scripts that store a record (STORE). */
  private storeArgs(instance: NewInstance): Array<string | number> {
    const { id, service, environment, host, color, metadata } = instance;
    const json = metadata === null ? '' : JSON.stringify(metadata);
    const keys = [...this.keys(id), this.serviceKey(service, environment)];
    return [...keys, this.keyPrefix, id, service, environment, host, color ?? '', json, instance.registeredAt.getTime()];
  }
  /** The KEYS every script takes, in the order PRELUDE documents. */
  private keys(id: string): string[] {
    const fixed = ['instances:all', 'instances:by-heartbeat', 'instances:stale'].map((s) => this.k(s));
    return [this.instanceKey(id), this.k(`history:${id}`), ...fixed, ...STATUSES.map((s) => this.statusKey(s))];
  }
}

/** The replies of a pipeline, throwing the first error. */
function results<T>(replies: Array<[Error | null, unknown]> | null): T[] {
  if (replies === null) throw new Error('redis pipeline was discarded');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value as T;
  });
}

/** `text` with the glob characters of Redis MATCH patterns escaped. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** A Lua HGETALL reply (flat field/value array, or null) as an object. */
function fromFlat(reply: unknown): Record<string, string> {
  const hash: Record<string, string> = {};
  if (!Array.isArray(reply)) return hash;
  for (let i = 0; i + 1 < reply.length; i += 2) hash[String(reply[i])] = String(reply[i + 1]);
  return hash;
}

function toRecord(id: string, h: Record<string, string>): InstanceRecord | null {
  if (h.service === undefined || h.registeredAt === undefined) return null;
  return {
    id,
    service: h.service,
    environment: h.environment as Environment,
    host: h.host ?? '',
    color: h.color ? (h.color as Color) : null,
    metadata: h.metadata ? (JSON.parse(h.metadata) as JsonObject) : null,
    status: h.status as InstanceStatus,
    registeredAt: new Date(Number(h.registeredAt)),
    lastHeartbeatAt: h.lastHeartbeatAt ? new Date(Number(h.lastHeartbeatAt)) : null,
    metrics: h.metrics ? (JSON.parse(h.metrics) as InstanceMetrics) : null,
    staleSince: h.staleSince ? new Date(Number(h.staleSince)) : null,
    degradedAt: h.degradedAt ? new Date(Number(h.degradedAt)) : null,
  };
}
