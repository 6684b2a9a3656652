/** The GraphQL the deployments section uses, and the shapes it reads. */

export const FINISHED = ['COMPLETED', 'FAILED', 'ROLLED_BACK', 'CANCELLED'];
export const STRATEGIES = ['CANARY', 'BLUE_GREEN', 'ROLLING', 'DIRECT'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface MetricVerdict {
  name: string;
  verdict: string;
  check: string;
  unit: string;
  critical: boolean;
  reference: string;
  canaryCount: number;
  controlCount: number;
  canaryMedian: number | null;
  controlMedian: number | null;
  effect: number | null;
  pValue: number | null;
  tolerance: number | null;
  reason: string;
}

export interface HealthReport {
  verdict: string;
  reasons: string[];
  score: number | null;
  outliers: string[];
  insufficientData: boolean;
  checkedAt: string;
  evidence: { updated: number; reporting: number; required: number; minHeartbeats: number };
  metrics: MetricVerdict[];
}

const HEALTH = `verdict reasons score outliers insufficientData checkedAt
  evidence { updated reporting required minHeartbeats }
  metrics { name verdict check unit critical reference canaryCount controlCount canaryMedian controlMedian effect pValue tolerance reason }`;

export interface DeploymentEvent {
  type: string;
  status: string;
  phase: number;
  progress: number;
  message: string | null;
  at: string;
  health: { verdict: string; reasons: string[] } | null;
}

export interface Target {
  instanceId: string;
  phase: number;
  state: string;
  reloadMs: number | null;
  error: string | null;
  instanceStatus: string | null;
}

export interface DeploymentSummary {
  id: string;
  profileName: string;
  version: number;
  previousVersion: number | null;
  strategy: string;
  status: string;
  phase: number;
  phaseCount: number;
  progress: number;
  rollbackReason: string | null;
  failureReason: string | null;
  startedBy: string;
  createdAt: string;
  finishedAt: string | null;
}

export interface DeploymentDetail extends DeploymentSummary {
  targets: Target[];
  healthChecks: HealthReport[];
  events: DeploymentEvent[];
}

const SUMMARY = 'id profileName version previousVersion strategy status phase phaseCount progress rollbackReason failureReason startedBy createdAt finishedAt';

export const DEPLOYMENT = `query Deployment($id: ID!) { deployment(id: $id) { ${SUMMARY}
  targets { instanceId phase state reloadMs error instanceStatus }
  healthChecks(last: 20) { ${HEALTH} }
  events(last: 100) { type status phase progress message at health { verdict reasons } }
} }`;

export interface LiveEvent extends Omit<DeploymentEvent, 'health'> {
  health: HealthReport | null;
}

export const DEPLOYMENT_EVENTS = `subscription DeploymentEvents($id: ID!) {
  deploymentEvents(id: $id) { type status phase progress message at health { ${HEALTH} } }
}`;

export interface ListRow extends DeploymentSummary {
  health: { verdict: string } | null;
}

export const DEPLOYMENTS = `query Deployments($first: Int, $after: String, $status: DeploymentStatus, $profileName: String) {
  deployments(first: $first, after: $after, status: $status, profileName: $profileName) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { ${SUMMARY} health { verdict } } }
  }
}`;

export interface DeploymentsPage {
  deployments: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: ListRow }> };
}

export interface ProfileChoice {
  name: string;
  service: string;
  environment: string;
  latestVersion: { version: number } | null;
  activeVersion: { version: number } | null;
}

export const PROFILES = `query DeployableProfiles { profiles(first: 100) { edges { node { name service environment latestVersion { version } activeVersion { version } } } } }`;

export interface PlannedPhase {
  phase: number;
  instances: number;
  observeSeconds: number;
}
export interface DeploymentPlan {
  strategy: string;
  targetCount: number;
  color: string | null;
  phases: PlannedPhase[];
}

export const PLAN = `query DeploymentPlan($input: StartDeploymentInput!) { deploymentPlan(input: $input) { strategy targetCount color phases { phase instances observeSeconds } } }`;
export const START = `mutation StartDeployment($input: StartDeploymentInput!) { startDeployment(input: $input) { id } }`;
export const PAUSE = `mutation Pause($id: ID!) { pauseDeployment(id: $id) { id status } }`;
export const RESUME = `mutation Resume($id: ID!) { resumeDeployment(id: $id) { id status } }`;
export const ROLLBACK = `mutation Rollback($id: ID!, $reason: String!) { rollbackDeployment(id: $id, reason: $reason) { id status } }`;

/** A share (0..1) as a percent with one decimal. */
export const percent = (v: number): string => `${Math.round(v * 1000) / 10}\u00a0%`;

/** A metric value in its unit: SHARE as percent, MS with "ms". */
export function inUnit(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined) return '—';
  if (unit === 'SHARE') return percent(v);
  const rounded = Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 100) / 100;
  return unit === 'MS' ? `${rounded} ms` : String(rounded);
}

/** How far the canary sits from the control: SHARE in percentage points, else in the unit. */
export function shift(v: number | null, unit: string): string {
  if (v === null) return '—';
  const sign = v > 0 ? '+' : '';
  if (unit === 'SHARE') return `${sign}${Math.round(v * 1000) / 10} pts`;
  return `${sign}${inUnit(v, unit)}`;
}
