import type { GraphQLHttp } from './graphql-http.js';
import type { ClientEnvironment, InstanceMetricsReport } from './types.js';

export const CONFIG_UPDATES = `subscription ConfigUpdates($instanceId: ID!) {
  configUpdates(instanceId: $instanceId) { profileName version hash data deploymentId traceparent }
}`;

export const REPORT_CONFIG_APPLIED = `mutation ReportConfigApplied($instanceId: ID!, $profileName: String!, $version: Int!, $success: Boolean!, $reloadMs: Float, $error: String, $traceparent: String) {
  reportConfigApplied(instanceId: $instanceId, profileName: $profileName, version: $version, success: $success, reloadMs: $reloadMs, error: $error, traceparent: $traceparent)
}`;

const REGISTER = `mutation RegisterInstance($input: RegisterInstanceInput!) {
  registerInstance(input: $input) { token instance { id } }
}`;

const HEARTBEAT = `mutation Heartbeat($instanceId: ID!, $metrics: InstanceMetricsInput) {
  heartbeat(instanceId: $instanceId, metrics: $metrics) { id }
}`;

const DEREGISTER = `mutation DeregisterInstance($id: ID!) { deregisterInstance(id: $id) }`;

const REFRESH_TOKEN = `mutation RefreshInstanceToken($instanceId: ID!) { refreshInstanceToken(instanceId: $instanceId) }`;

/** An instance's identity: its id and its own INSTANCE token. */
export interface Identity {
  instanceId: string;
  token: string;
}

/** The arguments of `reportConfigApplied`. */
export interface AckVariables {
  instanceId: string;
  profileName: string;
  version: number;
  success: boolean;
  reloadMs: number | null;
  error: string | null;
  /** The apply span's context (or the push's), so HotSwap links the ack to the push's trace. */
  traceparent?: string | null;
}

export interface RegisterRequest {
  service: string;
  environment: ClientEnvironment;
  host: string;
  color?: 'BLUE' | 'GREEN';
  metadata?: Record<string, unknown>;
}

/** The instance mutations over HTTP. */
export class InstanceApi {
  constructor(private readonly http: GraphQLHttp) {}

  async register(registrationToken: string, input: RegisterRequest): Promise<Identity> {
    const data = await this.http.request<{ registerInstance: { token: string; instance: { id: string } } }>(
      REGISTER,
      { input },
      registrationToken,
    );
    return { instanceId: data.registerInstance.instance.id, token: data.registerInstance.token };
  }

  async heartbeat(who: Identity, metrics: InstanceMetricsReport | null): Promise<void> {
    await this.http.request(HEARTBEAT, { instanceId: who.instanceId, metrics }, who.token);
  }

  async ack(token: string, ack: AckVariables): Promise<void> {
    await this.http.request(REPORT_CONFIG_APPLIED, { ...ack }, token);
  }

  /** A fresh token for the same instance. */
  async refreshToken(who: Identity): Promise<string> {
    const data = await this.http.request<{ refreshInstanceToken: string }>(REFRESH_TOKEN, { instanceId: who.instanceId }, who.token);
    return data.refreshInstanceToken;
  }

  async deregister(who: Identity): Promise<void> {
    await this.http.request(DEREGISTER, { id: who.instanceId }, who.token);
  }
}
