/**
 * The Lua scripts of the Redis registry (redis-registry.ts has the key layout).
 * Every write is one script, so a record and its index entries change together.
 */
import { CONNECTIONS_OF } from './redis-presence.js';

// Every script gets the same KEYS: 1 instance, 2 history, 3 all, 4 by-heartbeat, 5 stale, 6–8 status sets
// (HEALTHY, DEGRADED, STALE), and register and restore also 9 its by-service set; ARGV starts with the prefix and the id.
const PRELUDE = `
local P, id = ARGV[1], ARGV[2]
local function byService(service, env) return P .. 'instances:by-service:' .. env .. ':' .. service end
local function setStatusIndex(status)
  redis.call('SREM', KEYS[6], id); redis.call('SREM', KEYS[7], id); redis.call('SREM', KEYS[8], id)
  if status == 'HEALTHY' then redis.call('SADD', KEYS[6], id)
  elseif status == 'DEGRADED' then redis.call('SADD', KEYS[7], id)
  elseif status == 'STALE' then redis.call('SADD', KEYS[8], id) end
end
local function unindex(service, env)
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('ZREM', KEYS[3], id); redis.call('ZREM', KEYS[4], id); redis.call('ZREM', KEYS[5], id)
  setStatusIndex(nil)
  if service then redis.call('ZREM', byService(service, env), id) end
end
`;

/** ARGV 3: staleBeforeMs ('' = unconditional). Returns 1 when it removed the instance. */
const REMOVE = `${PRELUDE}${CONNECTIONS_OF}
local f = redis.call('HMGET', KEYS[1], 'service', 'environment', 'status', 'staleSince')
if f[1] and ARGV[3] ~= '' then
  local since = tonumber(f[4])
  if f[3] ~= 'STALE' or not since or since >= tonumber(ARGV[3]) then return 0 end
end
unindex(f[1], f[2])
if connectionsOf(P, id) <= 0 then redis.call('DEL', P .. 'presence:' .. id) end
return f[1] and 1 or 0
`;

/** Stores a new record over whatever the id had. ARGV 3–8: service, environment, host, color, metadata JSON, registeredAtMs. */
const STORE = `
local at = ARGV[8]
local old = redis.call('HMGET', KEYS[1], 'service', 'environment')
unindex(old[1], old[2])
redis.call('HSET', KEYS[1], 'service', ARGV[3], 'environment', ARGV[4], 'host', ARGV[5], 'color', ARGV[6],
  'metadata', ARGV[7], 'status', 'HEALTHY', 'registeredAt', at, 'lastHeartbeatAt', at, 'metrics', '', 'staleSince', '', 'degradedAt', '')
redis.call('ZADD', KEYS[3], at, id); redis.call('ZADD', KEYS[4], at, id); redis.call('ZADD', KEYS[9], at, id)
setStatusIndex('HEALTHY')
`;

/** ARGV as STORE. */
const REGISTER = `${PRELUDE}${STORE}
return 1
`;

/** ARGV as STORE; stores only when the id is not there. Returns HGETALL of what is stored. */
const RESTORE = `${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then ${STORE} end
return redis.call('HGETALL', KEYS[1])
`;

/**
 * ARGV 3–6: atMs, metrics JSON ('' = none), sample JSON, history length. A
 * STALE instance gets back DEGRADED when it has a degradedAt, else HEALTHY.
 * Returns HGETALL or nil.
 */
const HEARTBEAT = `${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'lastHeartbeatAt', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[1], 'metrics', ARGV[4])
  redis.call('LPUSH', KEYS[2], ARGV[5])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
end
if redis.call('HGET', KEYS[1], 'status') == 'STALE' then
  local degraded = redis.call('HGET', KEYS[1], 'degradedAt')
  local back = (degraded and degraded ~= '') and 'DEGRADED' or 'HEALTHY'
  redis.call('HSET', KEYS[1], 'status', back, 'staleSince', '')
  redis.call('ZREM', KEYS[5], id)
  setStatusIndex(back)
end
redis.call('ZADD', KEYS[4], ARGV[3], id)
return redis.call('HGETALL', KEYS[1])
`;

/** ARGV 3–4: HEALTHY or DEGRADED, atMs (DEGRADED's degradedAt). Returns HGETALL or nil. */
const SET_STATUS = `${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if redis.call('HGET', KEYS[1], 'status') == 'STALE' then
  redis.call('HSET', KEYS[1], 'staleSince', '')
  redis.call('ZREM', KEYS[5], id)
  redis.call('ZADD', KEYS[4], redis.call('HGET', KEYS[1], 'lastHeartbeatAt'), id)
end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'degradedAt', ARGV[3] == 'DEGRADED' and ARGV[4] or '')
setStatusIndex(ARGV[3])
return redis.call('HGETALL', KEYS[1])
`;

/** ARGV 3: degradedAtMs. HEALTHY only while DEGRADED with that degradedAt. Returns 1 when it changed it. */
const RECOVER = `${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'status', 'degradedAt')
if f[1] ~= 'DEGRADED' or f[2] ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'status', 'HEALTHY', 'degradedAt', '')
setStatusIndex('HEALTHY')
return 1
`;

/** ARGV 3–4: cutoffMs, nowMs. Returns 1 when this call marked it STALE. */
const MARK_STALE = `${PRELUDE}
local f = redis.call('HMGET', KEYS[1], 'status', 'lastHeartbeatAt')
if not f[1] or f[1] == 'STALE' then redis.call('ZREM', KEYS[4], id); return 0 end
local last = tonumber(f[2])
if last and last >= tonumber(ARGV[3]) then redis.call('ZADD', KEYS[4], last, id); return 0 end
redis.call('HSET', KEYS[1], 'status', 'STALE', 'staleSince', ARGV[4])
redis.call('ZREM', KEYS[4], id)
redis.call('ZADD', KEYS[5], ARGV[4], id)
setStatusIndex('STALE')
return 1
`;

/**
 * KEYS 1: a by-service set; ARGV 1: the prefix. The set's instances that are
 * not STALE and hold a subscription, as id, color pairs (color '' for none),
 * oldest registration first.
 */
export const LIVE_INSTANCES = `${CONNECTIONS_OF}
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local f = redis.call('HMGET', ARGV[1] .. 'instance:' .. id, 'status', 'color')
  if f[1] and f[1] ~= 'STALE' and connectionsOf(ARGV[1], id) > 0 then
    out[#out + 1] = id
    out[#out + 1] = f[2] or ''
  end
end
return out
`;

export const SCRIPTS = {
  hotswapRegistryRemove: REMOVE,
  hotswapRegistryRegister: REGISTER,
  hotswapRegistryRestore: RESTORE,
  hotswapRegistryHeartbeat: HEARTBEAT,
  hotswapRegistrySetStatus: SET_STATUS,
  hotswapRegistryRecover: RECOVER,
  hotswapRegistryMarkStale: MARK_STALE,
};
type ScriptName = keyof typeof SCRIPTS;
/** The scripts that store a record, and so take its by-service set as KEYS[9]. */
export const STORING = new Set<string>(['hotswapRegistryRegister', 'hotswapRegistryRestore']);
/** The scripts, as ioredis's defineCommand adds them to the client and its pipelines. */
export type Scripts<R> = Record<ScriptName, (...args: Array<string | number>) => R>;
