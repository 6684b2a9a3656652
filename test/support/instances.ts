import { Environment, Role } from '../../src/domain/enums.js';
import { type Api, ok } from './api.js';
import { registerInstance } from './fleet.js';
import type { TestServer } from './server.js';

/** The instance API as the instance tests (test/api/instances*.test.ts) call it. */

export const INSTANCE_FIELDS = `id service environment host color metadata status lastHeartbeatAt
  metrics { errorRate latencyP99Ms requestCount custom }
  appliedVersions { profileName version reloadMs appliedAt }`;
export const GET = `query($id: ID!) { instance(id: $id) { ${INSTANCE_FIELDS} } }`;
export const LIST = `query($service: String, $environment: Environment, $status: InstanceStatus) {
  instances(service: $service, environment: $environment, status: $status) { ${INSTANCE_FIELDS} }
}`;
export const DEREGISTER = `mutation($id: ID!) { deregisterInstance(id: $id) }`;
export const REGISTER_FULL = `mutation($input: RegisterInstanceInput!) {
  registerInstance(input: $input) { token instance { ${INSTANCE_FIELDS} } }
}`;

export interface InstanceShape {
  id: string;
  service: string;
  environment: string;
  host: string;
  color: string | null;
  metadata: unknown;
  status: string;
  lastHeartbeatAt: string | null;
  metrics: { errorRate: number | null; latencyP99Ms: number | null; requestCount: number | null; custom: unknown } | null;
  appliedVersions: Array<{ profileName: string; version: number; reloadMs: number | null; appliedAt: string }>;
}

/** The claims of a JWT, decoded without verification. */
export function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1];
  if (payload === undefined) throw new Error(`not a JWT: ${jwt}`);
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

let serviceCounter = 0;
/** A service name no other test uses, so counts are exact. */
export const freshService = (prefix = 'svc') => `${prefix}-${++serviceCounter}-${Math.random().toString(36).slice(2, 7)}`;

/** The instance calls of the tests; `callers()` answers once the file's server runs. */
export function instanceCalls(callers: () => { a: Api; server: TestServer }) {
  return {
    /** A registration token (INSTANCE, no instanceId) for `service`. */
    regToken: (service: string, environment: Environment = Environment.STAGING) =>
      callers().server.token(Role.INSTANCE, { sub: `registrar-${service}`, service, environment }),
    list: async (filter: { service?: string; environment?: string; status?: string } = {}, token?: string) =>
      ok(await callers().a.gql<{ instances: InstanceShape[] }>(LIST, filter, token)).instances,
    read: async (id: string) => ok(await callers().a.gql<{ instance: InstanceShape | null }>(GET, { id })).instance,
    register: async (service: string, environment: Environment = Environment.STAGING, host = 'host-a') =>
      registerInstance(callers().a, service, environment, host),
  };
}
