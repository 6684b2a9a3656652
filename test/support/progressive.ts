import { expect } from 'vitest';
import { Environment } from '../../src/domain/enums.js';
import { type Api, createProfile, ok, publish } from './api.js';
import {
  type AckDecision,
  type Behavior,
  byPhase,
  type DeploymentShape,
  EVENT_FIELDS,
  type Fleet,
  HEALTH_FIELDS,
  HEALTHY,
  Phases,
  readDeployment,
  type SimInstance,
  startDeployment,
  startFleet,
  startInstance,
  waitForDeployment,
} from './fleet.js';
import { pollUntil } from './wait.js';

/**
 * The set-up the progressive deployment API tests share (test/api/canary,
 * rolling, blue-green, pause-resume, rollback, deployments …): a profile with
 * versions, a fleet on version 1 reporting metrics, a deployment started and
 * waited for.
 */

/** Metrics of an instance gone bad: error rate and p99 latency far above HEALTHY's. */
export const DEGRADED = { errorRate: 0.3, latencyP99Ms: 480, requestCount: 200 };

const ACTIVE_VERSION = 'query($n: String!) { profile(name: $n) { activeVersion { version } } }';
const COUNT_DEPLOYMENTS = 'query($p: String) { deployments(profileName: $p) { totalCount } }';

const DETAILED = `query($id: ID!) { deployment(id: $id) {
  status phase phaseCount progress rollbackReason failureReason
  health { ${HEALTH_FIELDS} }
  healthChecks { ${HEALTH_FIELDS} }
  events(last: 200) { ${EVENT_FIELDS} health { healthy reasons } }
  targets { instanceId phase state }
} }`;

export interface ReportShape {
  verdict: string;
  healthy: boolean;
  score: number | null;
  outliers: string[];
  metrics: Array<{ name: string; verdict: string; check: string; critical: boolean; canaryCount: number; controlCount: number; canaryMedian: number | null; controlMedian: number | null; pValue: number | null; reference: string; reason: string }>;
  reasons: string[];
  insufficientData: boolean;
  checkedAt: string;
  current: { errorRate: number | null; latencyP99Ms: number | null; custom: Record<string, number> | null };
}

/** A deployment with its health verdicts and its last 200 events, each with its verdict. */
export interface Detailed {
  status: string;
  phase: number;
  phaseCount: number;
  progress: number;
  rollbackReason: string | null;
  failureReason: string | null;
  health: ReportShape | null;
  healthChecks: ReportShape[];
  events: Array<{ type: string; phase: number; status: string; progress: number; message: string | null; at: string; health: { healthy: boolean; reasons: string[] } | null }>;
  targets: Array<{ instanceId: string; phase: number; state: string }>;
}

/** The deployment with its verdicts (read as ADMIN). */
export async function detailed(a: Api, id: string): Promise<Detailed> {
  return ok(await a.gql<{ deployment: Detailed }>(DETAILED, { id })).deployment;
}

/** How many updates of `version` the instance received. */
export const receivedVersion = (i: SimInstance, version: number): number => i.received.filter((r) => r.update.version === version).length;

/** The profile's active version, null while none (read as ADMIN). */
export async function activeVersion(a: Api, name: string): Promise<number | null> {
  return ok(await a.gql<{ profile: { activeVersion: { version: number } | null } }>(ACTIVE_VERSION, { n: name })).profile.activeVersion?.version ?? null;
}

/** How many deployments the profile has had (read as ADMIN). */
export async function countDeployments(a: Api, name: string): Promise<number> {
  return ok(await a.gql<{ deployments: { totalCount: number } }>(COUNT_DEPLOYMENTS, { p: name })).deployments.totalCount;
}

export interface VersionsOptions {
  /** @default `${name}-svc` */
  service?: string;
  /** @default STAGING */
  environment?: Environment;
  /** What version k holds. @default { v: k } */
  data?: (k: number) => unknown;
}

/** A profile `name` with versions 1…count, published as ADMIN. */
export async function profileWithVersions(a: Api, name: string, count: number, o: VersionsOptions = {}): Promise<void> {
  await createProfile(a, name, { service: o.service ?? `${name}-svc`, environment: o.environment ?? Environment.STAGING });
  for (let k = 1; k <= count; k++) await publish(a, name, o.data ? o.data(k) : { v: k });
}

/** A profile with version 1 and one connected instance of its service: a start refused there is refused for its input, not for want of targets. */
export async function refusalProfile(a: Api, name: string): Promise<SimInstance> {
  await profileWithVersions(a, name, 1);
  return startInstance(a, { service: `${name}-svc` });
}

export interface FleetOnVersion1 extends VersionsOptions {
  /** How many instances. */
  count: number;
  /** @default 2 */
  versions?: number;
  behavior?: (index: number) => Behavior;
  color?: (index: number) => 'BLUE' | 'GREEN' | undefined;
  /** The metrics each instance reports; null reports none. @default HEALTHY */
  metricsOf?: ((i: SimInstance) => Record<string, unknown>) | null;
  /** How often they report. @default 100 */
  reportEveryMs?: number;
  /** Where the fleet goes to be stopped after the file. */
  fleets?: Fleet[];
}

/**
 * A profile `name` (service `${name}-svc`) with versions 1…n, a fleet of
 * subscribed instances, version 1 deployed to them (DIRECT, COMPLETED), and
 * their metrics reported every 100 ms for 1.2 s, so a baseline exists that
 * holds the samples a rank test needs (10 by default) even for one instance.
 */
export async function fleetOnVersion1(a: Api, name: string, o: FleetOnVersion1): Promise<{ f: Fleet; first: DeploymentShape }> {
  await profileWithVersions(a, name, o.versions ?? 2, o);
  const f = await startFleet(a, { service: o.service ?? `${name}-svc`, environment: o.environment, count: o.count, behavior: o.behavior, color: o.color });
  o.fleets?.push(f);
  const first = await startAndWait(a, { profileName: name, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
  expect(first.status).toBe('COMPLETED');
  const metricsOf = o.metricsOf === undefined ? () => HEALTHY : o.metricsOf;
  if (metricsOf !== null) {
    f.reportMetrics(o.reportEveryMs ?? 100, metricsOf);
    await new Promise((r) => setTimeout(r, 1200));
  }
  return { f, first };
}

/** Starts a deployment as ADMIN and waits for its end. */
export async function startAndWait(a: Api, input: Record<string, unknown>, timeoutMs = 20_000): Promise<DeploymentShape> {
  const started = await startDeployment(a, input);
  return waitForDeployment(a, started.id, timeoutMs);
}

/** Reads the deployment until `done` holds for it. */
export async function untilDeployment(
  a: Api,
  id: string,
  done: (d: DeploymentShape) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<DeploymentShape> {
  return pollUntil(async () => (await readDeployment(a, id))!, done, { timeoutMs, what });
}

/** Starts a two-phase canary of `version` and waits until phase 1 applied (its bake of `bakeSeconds` began). */
export async function canaryInBake(a: Api, name: string, version: number, bakeSeconds: number): Promise<DeploymentShape> {
  const started = await startDeployment(a, {
    profileName: name,
    version,
    strategy: 'CANARY',
    canary: { phases: [0.5, 1.0], bakeSeconds },
    ackTimeoutSeconds: 5,
  });
  return untilDeployment(a, started.id, (d) => d.events.some((e) => e.type === 'PHASE_COMPLETED' && e.phase === 1), 'phase 1 to be acked');
}

/** The deployment still has the status, the events and the rollback reason it had in `before`. */
export async function expectUnchanged(a: Api, before: DeploymentShape): Promise<void> {
  const now = (await readDeployment(a, before.id))!;
  expect(now.status).toBe(before.status);
  expect(now.events.map((e) => e.type)).toEqual(before.events.map((e) => e.type));
  expect(now.rollbackReason).toBe(before.rollbackReason);
}

export interface ProgressiveRun {
  f: Fleet;
  /** The phase (canary) or batch (rolling) of each instance. */
  phases: Phases;
  started: DeploymentShape;
  /** The deployment at its end; null with `wait: false`. */
  d: DeploymentShape | null;
}

export interface ProgressiveOptions {
  strategy: 'CANARY' | 'ROLLING';
  /** More of startDeployment's input (version 2, ackTimeoutSeconds 5 by default). */
  input?: Record<string, unknown>;
  /** How each instance answers version 2, by its phase. @default applies it */
  decide?: (phase: number | undefined) => AckDecision;
  metricsOf?: (i: SimInstance, phases: Phases) => Record<string, unknown>;
  /** false: return once started. */
  wait?: boolean;
  fleets?: Fleet[];
}

/** fleetOnVersion1 of `count`, then version 2 as `o.strategy`, each instance answering as `o.decide` says for its phase. */
export async function runProgressive(a: Api, name: string, count: number, o: ProgressiveOptions): Promise<ProgressiveRun> {
  const phases = new Phases();
  const { f } = await fleetOnVersion1(a, name, { count, fleets: o.fleets, metricsOf: (i) => (o.metricsOf ? o.metricsOf(i, phases) : HEALTHY) });
  for (const i of f.instances) i.behavior = byPhase(phases, o.decide ?? (() => ({ success: true, reloadMs: 2 })));
  const started = await startDeployment(a, { profileName: name, version: 2, strategy: o.strategy, ackTimeoutSeconds: 5, ...o.input });
  phases.fill(started);
  const d = o.wait === false ? null : await waitForDeployment(a, started.id, 25_000);
  return { f, phases, started, d };
}

/** Acks version 1 (the version in place), answers every later version as `later` says. */
export const laterVersions =
  (later: Behavior): Behavior =>
  (update, instance) =>
    update.version === 1 ? { success: true, reloadMs: 1 } : later(update, instance);
