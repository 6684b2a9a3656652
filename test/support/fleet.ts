import { Environment, Role } from '../../src/domain/enums.js';
import { FINISHED_STATUSES } from '../../src/domain/lifecycle/status.js';
import { type Api, ok } from './api.js';
import type { GqlResponse } from './server.js';
import { connectWs, type TestWsClient } from './ws-client.js';
import { pollUntil } from './wait.js';

/** Simulated service instances for the API tests: real graphql-ws subscribers that ack over HTTP. */

export interface ConfigUpdateMsg {
  profileName: string;
  version: number;
  hash: string;
  data: unknown;
  deploymentId: string | null;
  traceparent: string | null;
}

export const CONFIG_UPDATES = `subscription($id: ID!) {
  configUpdates(instanceId: $id) { profileName version hash data deploymentId traceparent }
}`;

export const REGISTER = `mutation($input: RegisterInstanceInput!) {
  registerInstance(input: $input) { token instance { id service environment host color metadata status lastHeartbeatAt } }
}`;

export const REPORT_APPLIED = `mutation($id: ID!, $p: String!, $v: Int!, $ok: Boolean!, $ms: Float, $err: String) {
  reportConfigApplied(instanceId: $id, profileName: $p, version: $v, success: $ok, reloadMs: $ms, error: $err)
}`;

export const HEARTBEAT = `mutation($id: ID!, $m: InstanceMetricsInput) {
  heartbeat(instanceId: $id, metrics: $m) { id status lastHeartbeatAt metrics { errorRate latencyP99Ms requestCount custom } }
}`;

/** What a simulated instance does with an update it receives. */
export type AckDecision = { success: true; reloadMs?: number } | { success: false; error: string } | 'ignore';
export type Behavior = (update: ConfigUpdateMsg, instance: SimInstance) => AckDecision;

export const ackOk =
  (reloadMs = 7.5): Behavior =>
  () => ({ success: true, reloadMs });
export const ackFail =
  (error: string): Behavior =>
  () => ({ success: false, error });
/** Fails to apply `version` with `error`, acks every other version. */
export const failOn =
  (version: number, error: string, reloadMs = 4): Behavior =>
  (u) =>
    u.version === version ? { success: false, error } : { success: true, reloadMs };

/** Heartbeat metrics of a healthy simulated instance. */
export const HEALTHY = { errorRate: 0.01, latencyP99Ms: 100, requestCount: 200 };

/** The versions an instance received, in order. */
export const versionsOf = (i: SimInstance): number[] => i.received.map((r) => r.update.version);

/** Never acks (the test may ack by hand with `instance.ack`). */
export const noAck: Behavior = () => 'ignore';

export interface ReceivedUpdate {
  update: ConfigUpdateMsg;
  /** Date.now() when it arrived. */
  at: number;
}

export interface AckRecord {
  profileName: string;
  version: number;
  success: boolean;
  /** Date.now() just before the ack was sent. */
  sentAt: number;
  /** Date.now() when the server answered. */
  answeredAt: number;
  response: GqlResponse<unknown>;
}

export interface SimInstance {
  id: string;
  token: string;
  host: string;
  service: string;
  environment: Environment;
  /** Every update received, in order. */
  readonly received: ReceivedUpdate[];
  /** Every ack sent (automatic or by hand), in order. */
  readonly acks: AckRecord[];
  /** Errors the subscription reported. */
  readonly subscriptionErrors: unknown[];
  color: 'BLUE' | 'GREEN' | null;
  /** The version of the last update it acked as applied (null before any). */
  appliedVersion(): number | null;
  /** What the instance does with the next updates; may be changed at any time. */
  behavior: Behavior;
  /** Wait before each automatic ack. */
  delayMs: number;
  /** The first received update matching `pred` (already received or still to come). */
  waitForUpdate(pred?: (u: ConfigUpdateMsg) => boolean, timeoutMs?: number): Promise<ConfigUpdateMsg>;
  ack(update: { profileName: string; version: number }, decision: Exclude<AckDecision, 'ignore'>): Promise<GqlResponse<{ reportConfigApplied: boolean }>>;
  heartbeat(metrics?: Record<string, unknown>): Promise<GqlResponse<unknown>>;
  /** Closes the websocket (the registration stays). */
  close(): Promise<void>;
}

export interface Fleet {
  instances: SimInstance[];
  ids: string[];
  byId(id: string): SimInstance;
  /** Heartbeats every instance (that is not `except`) every `intervalMs` until stop(). */
  keepAlive(intervalMs: number, except?: (i: SimInstance) => boolean): void;
  /** Heartbeats every instance every `intervalMs` with the metrics `metricsOf` gives it (e.g. by its applied version) until stop(). */
  reportMetrics(intervalMs: number, metricsOf: (i: SimInstance) => Record<string, unknown> | null): void;
  stop(): Promise<void>;
}

export interface InstanceOptions {
  service: string;
  environment?: Environment;
  host?: string;
  behavior?: Behavior;
  delayMs?: number;
  /** Wait for the first message (the config sent on subscribe) before returning. */
  waitForInitial?: boolean;
  /** Blue-green color to register with. */
  color?: 'BLUE' | 'GREEN';
}

/** Registers an instance with a registration token; returns its id and own token. */
export async function registerInstance(
  a: Api,
  service: string,
  environment: Environment = Environment.STAGING,
  host = 'sim-host',
  color: 'BLUE' | 'GREEN' | null = null,
): Promise<{ id: string; token: string }> {
  const registration = await a.server.token(Role.INSTANCE, { sub: `registrar-${service}`, service, environment });
  const res = await a.gql<{ registerInstance: { token: string; instance: { id: string } } }>(
    REGISTER,
    { input: { service, environment, host, color } },
    registration,
  );
  const { token, instance } = ok(res).registerInstance;
  return { id: instance.id, token };
}

/** Registers one instance, subscribes it to configUpdates and acks what it receives as `behavior` says. */
export async function startInstance(a: Api, o: InstanceOptions): Promise<SimInstance> {
  const environment = o.environment ?? Environment.STAGING;
  const host = o.host ?? `sim-${Math.random().toString(36).slice(2, 8)}`;
  const { id, token } = await registerInstance(a, o.service, environment, host, o.color ?? null);
  const ws: TestWsClient = connectWs(a.server.url, token);
  const received: ReceivedUpdate[] = [];
  const acks: AckRecord[] = [];
  const subscriptionErrors: unknown[] = [];
  const waiters: Array<{ pred: (u: ConfigUpdateMsg) => boolean; resolve: (u: ConfigUpdateMsg) => void }> = [];
  const pendingAcks = new Set<Promise<unknown>>();

  const instance: SimInstance = {
    id,
    token,
    host,
    service: o.service,
    environment,
    received,
    acks,
    subscriptionErrors,
    color: o.color ?? null,
    appliedVersion() {
      for (let i = acks.length - 1; i >= 0; i--) if (acks[i]!.success) return acks[i]!.version;
      return null;
    },
    behavior: o.behavior ?? ackOk(),
    delayMs: o.delayMs ?? 0,
    waitForUpdate(pred = () => true, timeoutMs = 8000) {
      const found = received.find((r) => pred(r.update));
      if (found) return Promise.resolve(found.update);
      return new Promise((resolve, reject) => {
        const waiter = {
          pred,
          resolve: (u: ConfigUpdateMsg) => {
            clearTimeout(timer);
            resolve(u);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`instance ${id} received no matching update within ${timeoutMs} ms; got ${JSON.stringify(received.map((r) => r.update))}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    async ack(update, decision) {
      const sentAt = Date.now();
      const response = await a.gql<{ reportConfigApplied: boolean }>(
        REPORT_APPLIED,
        {
          id,
          p: update.profileName,
          v: update.version,
          ok: decision.success,
          ms: decision.success ? (decision.reloadMs ?? null) : null,
          err: decision.success ? null : decision.error,
        },
        token,
      );
      acks.push({ profileName: update.profileName, version: update.version, success: decision.success, sentAt, answeredAt: Date.now(), response });
      return response;
    },
    heartbeat(metrics) {
      return a.gql(HEARTBEAT, { id, m: metrics ?? null }, token);
    },
    async close() {
      await Promise.allSettled([...pendingAcks]);
      await ws.dispose();
    },
  };

  const onUpdate = (update: ConfigUpdateMsg) => {
    received.push({ update, at: Date.now() });
    for (const w of [...waiters]) {
      if (w.pred(update)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(update);
      }
    }
    const decision = instance.behavior(update, instance);
    if (decision === 'ignore') return;
    const run = (async () => {
      if (instance.delayMs > 0) await new Promise((r) => setTimeout(r, instance.delayMs));
      await instance.ack(update, decision);
    })().catch((error: unknown) => subscriptionErrors.push(error));
    pendingAcks.add(run);
    void run.finally(() => pendingAcks.delete(run));
  };

  ws.client.subscribe<{ configUpdates: ConfigUpdateMsg }>(
    { query: CONFIG_UPDATES, variables: { id } },
    {
      next: (m) => {
        if (m.errors) subscriptionErrors.push(m.errors);
        if (m.data?.configUpdates) onUpdate(m.data.configUpdates);
      },
      error: (e) => subscriptionErrors.push(e),
      complete: () => {},
    },
  );
  // Deployments target connected instances only: return once the server counts this one.
  await untilConnected(a, id, token);
  if (o.waitForInitial) await instance.waitForUpdate();
  return instance;
}

/** Waits until the server counts instance `id` as connected (`ServiceInstance.connected`), as deployments target it. */
export async function untilConnected(a: Api, id: string, token: string, timeoutMs = 8000): Promise<void> {
  await pollUntil(
    async () => (await a.gql<{ instance: { connected: boolean } | null }>('query($id: ID!) { instance(id: $id) { connected } }', { id }, token)).data?.instance?.connected,
    (connected) => connected === true,
    { intervalMs: 10, timeoutMs, what: `instance ${id} to count as connected` },
  );
}

/** Starts `count` instances of one service and environment; `behavior(i)` picks each one's behaviour. */
export async function startFleet(
  a: Api,
  o: Omit<InstanceOptions, 'behavior' | 'host' | 'color'> & {
    count: number;
    behavior?: (index: number) => Behavior;
    color?: (index: number) => 'BLUE' | 'GREEN' | undefined;
  },
): Promise<Fleet> {
  const instances: SimInstance[] = [];
  for (let i = 0; i < o.count; i++) {
    instances.push(await startInstance(a, { ...o, host: `${o.service}-${i}`, behavior: o.behavior?.(i), color: o.color?.(i) }));
  }
  const timers: NodeJS.Timeout[] = [];
  return {
    instances,
    ids: instances.map((i) => i.id),
    byId(id) {
      const found = instances.find((i) => i.id === id);
      if (!found) throw new Error(`no instance ${id} in this fleet`);
      return found;
    },
    keepAlive(intervalMs, except = () => false) {
      for (const i of instances) {
        if (except(i)) continue;
        timers.push(setInterval(() => void i.heartbeat().catch(() => undefined), intervalMs));
      }
    },
    reportMetrics(intervalMs, metricsOf) {
      for (const i of instances) {
        timers.push(setInterval(() => void i.heartbeat(metricsOf(i) ?? undefined).catch(() => undefined), intervalMs));
      }
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.allSettled(instances.map((i) => i.close()));
    },
  };
}

export const TARGET_FIELDS = 'instanceId phase state reloadMs error';
export const HEALTH_FIELDS = 'verdict healthy reasons insufficientData checkedAt score outliers metrics { name verdict check critical canaryCount controlCount canaryMedian controlMedian pValue reference reason } baseline { errorRate latencyP99Ms requestCount custom } current { errorRate latencyP99Ms requestCount custom }';
export const EVENT_FIELDS = 'deploymentId type status phase progress message at';
export const DEPLOYMENT_FIELDS = `id profileName version previousVersion strategy status phase phaseCount progress failureReason
  rollbackReason startedBy createdAt finishedAt targets { ${TARGET_FIELDS} } events { ${EVENT_FIELDS} }`;

export interface DeploymentShape {
  id: string;
  profileName: string;
  version: number;
  previousVersion: number | null;
  strategy: string;
  status: string;
  phase: number;
  phaseCount: number;
  progress: number;
  failureReason: string | null;
  rollbackReason: string | null;
  startedBy: string;
  createdAt: string;
  finishedAt: string | null;
  targets: Array<{ instanceId: string; phase: number; state: string; reloadMs: number | null; error: string | null }>;
  events: Array<{ deploymentId: string; type: string; status: string; phase: number; progress: number; message: string | null; at: string }>;
}

export const START_DEPLOYMENT = `mutation($input: StartDeploymentInput!) { startDeployment(input: $input) { ${DEPLOYMENT_FIELDS} } }`;
export const GET_DEPLOYMENT = `query($id: ID!) { deployment(id: $id) { ${DEPLOYMENT_FIELDS} } }`;

/** The statuses a deployment ends in (the lifecycle's finished set). */
export const FINISHED: readonly string[] = FINISHED_STATUSES;

export async function readDeployment(a: Api, id: string): Promise<DeploymentShape | null> {
  return ok(await a.gql<{ deployment: DeploymentShape | null }>(GET_DEPLOYMENT, { id })).deployment;
}

/** Starts a deployment (as ADMIN unless `token`) and returns it; fails the test when refused. */
export async function startDeployment(a: Api, input: Record<string, unknown>, token?: string): Promise<DeploymentShape> {
  return ok(await a.gql<{ startDeployment: DeploymentShape }>(START_DEPLOYMENT, { input }, token)).startDeployment;
}

/** Polls the deployment until it reaches a terminal status. */
export async function waitForDeployment(a: Api, id: string, timeoutMs = 8000): Promise<DeploymentShape> {
  const d = await pollUntil(() => readDeployment(a, id), (d) => d !== null && FINISHED.includes(d.status), {
    timeoutMs,
    what: `deployment ${id} to end`,
  });
  return d!;
}

/** Starts a DIRECT deployment and waits for its end. */
export async function deployAndWait(a: Api, profileName: string, version: number, extra: Record<string, unknown> = {}): Promise<DeploymentShape> {
  const started = await startDeployment(a, { profileName, version, strategy: 'DIRECT', ackTimeoutSeconds: 5, ...extra });
  return waitForDeployment(a, started.id);
}

/** The phase (canary) or batch (rolling) of each target: targets are planned at start, so startDeployment's answer has them. */
export class Phases {
  private readonly map = new Map<string, number>();
  private resolveReady: () => void = () => {};
  readonly ready = new Promise<void>((r) => (this.resolveReady = r));

  fill(d: DeploymentShape): void {
    for (const t of d.targets) this.map.set(t.instanceId, t.phase);
    this.resolveReady();
  }

  of(instanceId: string): number | undefined {
    return this.map.get(instanceId);
  }

  instancesOf(f: Fleet, phase: number): SimInstance[] {
    return f.instances.filter((i) => this.map.get(i.id) === phase);
  }
}

/**
 * Acks every version but 2 at once; version 2 as `decide(phase)` says, once the
 * plan is known (the first pushes may arrive before startDeployment answers).
 */
export function byPhase(phases: Phases, decide: (phase: number | undefined) => AckDecision): Behavior {
  return (update, instance) => {
    if (update.version !== 2) return { success: true, reloadMs: 1 };
    void phases.ready
      .then(async () => {
        const decision = decide(phases.of(instance.id));
        if (decision !== 'ignore') await instance.ack(update, decision);
      })
      .catch((error: unknown) => instance.subscriptionErrors.push(error));
    return 'ignore';
  };
}
