import { DomainError, UnavailableError } from '../domain/errors.js';
import type { InstanceRegistry } from './instance-registry.js';

/**
 * Wraps a registry whose store can be unreachable (Redis): its failures become
 * a retryable UNAVAILABLE error instead of an internal one.
 */
export function guardUnavailable(registry: InstanceRegistry): InstanceRegistry {
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (error) {
        if (error instanceof DomainError) throw error;
        throw new UnavailableError('the instance registry (Redis) is unavailable; retry shortly', { retryable: true });
      }
    };
  return {
    register: guard((i) => registry.register(i)),
    restore: guard((i) => registry.restore(i)),
    get: guard((id) => registry.get(id)),
    list: guard((f) => registry.list(f)),
    liveInstances: guard((service, environment) => registry.liveInstances(service, environment)),
    heartbeat: guard((id, at, m) => registry.heartbeat(id, at, m)),
    history: guard((id, n) => registry.history(id, n)),
    histories: guard((ids, n) => registry.histories(ids, n)),
    setStatus: guard((id, s, at) => registry.setStatus(id, s, at)),
    recover: guard((id, at) => registry.recover(id, at)),
    statuses: guard((ids) => registry.statuses(ids)),
    connected: guard((id) => registry.connected(id)),
    disconnected: guard((id, at) => registry.disconnected(id, at)),
    presence: guard((ids) => registry.presence(ids)),
    keepPresence: guard(() => registry.keepPresence()),
    deregister: guard((id) => registry.deregister(id)),
    markStale: guard((c, n) => registry.markStale(c, n)),
    removeStale: guard((c) => registry.removeStale(c)),
    countByStatus: guard(() => registry.countByStatus()),
    countByService: guard(() => registry.countByService()),
    close: () => registry.close(),
  };
}
