/** The instance registry as the console reads it, with each instance's assigned and applied versions. */

import { type Environment, ENVIRONMENTS } from '../../api/enums';

/** How often the page asks again: there is no subscription for instances. */
export const POLL_MS = 5000;

/**
 * One request per refresh: the filtered instances (each with the version the
 * server assigns it per profile, and what it applied), and every service and
 * environment (for the filter choices).
 */
export const INSTANCES_QUERY = `query ConsoleInstances($service: String, $environment: Environment, $status: InstanceStatus) {
  instances(service: $service, environment: $environment, status: $status) {
    id service environment host color status lastHeartbeatAt connected
    metrics { errorRate latencyP99Ms requestCount custom }
    assignedVersions { profileName version }
    appliedVersions { profileName version reloadMs appliedAt }
  }
  everything: instances { service environment }
}`;

export interface AppliedVersion {
  profileName: string;
  version: number;
  reloadMs: number | null;
  appliedAt: string;
}

export interface Instance {
  id: string;
  service: string;
  environment: string;
  host: string;
  color: string | null;
  status: string;
  lastHeartbeatAt: string | null;
  connected: boolean;
  metrics: { errorRate: number | null; latencyP99Ms: number | null; requestCount: number | null; custom: unknown } | null;
  /** Per profile, what the server sends this instance (a deployment's push, its color's version, or the active one). */
  assignedVersions: Array<{ profileName: string; version: number }>;
  appliedVersions: AppliedVersion[];
}

export interface InstancesData {
  instances: Instance[];
  everything: Array<{ service: string; environment: string }>;
}

/** Instances of one service in one environment. */
export interface Group {
  key: string;
  service: string;
  environment: string;
  instances: Instance[];
}

/** Groups by service then environment (in the enum's order), hosts sorted within. */
export function groupInstances(data: InstancesData): Group[] {
  const groups = new Map<string, Group>();
  for (const i of data.instances) {
    const key = `${i.service}\u0000${i.environment}`;
    let g = groups.get(key);
    if (!g) {
      g = { key, service: i.service, environment: i.environment, instances: [] };
      groups.set(key, g);
    }
    g.instances.push(i);
  }
  const envRank = (e: string) => ENVIRONMENTS.indexOf(e as Environment);
  const sorted = [...groups.values()].sort((a, b) => a.service.localeCompare(b.service) || envRank(a.environment) - envRank(b.environment));
  for (const g of sorted) g.instances.sort((a, b) => a.host.localeCompare(b.host) || a.id.localeCompare(b.id));
  return sorted;
}
