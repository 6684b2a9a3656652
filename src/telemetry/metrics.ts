import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ACTIVE_STATUSES } from '../domain/lifecycle/status.js';
import { type DeploymentStatus, DeploymentStrategy, Environment, HealthVerdict, type InstanceStatus } from '../domain/enums.js';

/** Where the fleet-wide gauges are read at scrape time (shared state: every replica reports the same values). */
export interface MetricsSources {
  /** Deployments by status, only the active statuses. */
  activeDeployments(): Promise<Partial<Record<DeploymentStatus, number>>>;
  instancesByService(): Promise<Array<{ service: string; environment: Environment; status: InstanceStatus; count: number }>>;
  /** Open configUpdates subscriptions on this replica. */
  subscribers(): number;
  /**
   * The deployments this replica runs now (holds the lease of): the verdict
   * gauge reports only them, so a deployment another replica took over or
   * ended leaves this one's scrape. Absent: every deployment judged here until
   * deploymentEnded.
   */
  heldDeployments?(): readonly string[];
}

/** hotswap_deployment_health_verdict's value of each verdict: a state timeline reads up as better. */
export const VERDICT_VALUE: Readonly<Record<HealthVerdict, number>> = Object.freeze({
  [HealthVerdict.PASS]: 1,
  [HealthVerdict.INCONCLUSIVE]: 0,
  [HealthVerdict.FAIL]: -1,
});

/** The latest verdict of a deployment judged here, as the gauge labels it. */
interface LatestVerdict {
  profile: string;
  environment: Environment;
  value: number;
}

type DeploymentLabels = 'strategy' | 'environment';

/** Seconds: from a few ms (a config reload, a push) to minutes. */
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DEPLOYMENT_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/**
 * The Prometheus metrics of one replica (its own registry, so several servers
 * in one process never share series). Counters count what this replica did;
 * the gauges of fleet-wide state are computed from PostgreSQL and Redis at
 * scrape time, so every replica reports the same value: query them with max().
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly started: Counter<DeploymentLabels>;
  private readonly completed: Counter<DeploymentLabels>;
  private readonly failed: Counter<DeploymentLabels>;
  private readonly rolledBack: Counter<DeploymentLabels>;
  private readonly duration: Histogram<DeploymentLabels | 'status'>;
  private readonly reload: Histogram;
  private readonly pushLatency: Histogram;
  private readonly verdicts: Counter<'verdict' | 'environment'>;
  /** By deployment id; bounded by the deployments this replica runs (see heldDeployments). */
  private readonly latestVerdicts = new Map<string, LatestVerdict>();
  private readonly held: (() => readonly string[]) | undefined;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.held = sources.heldDeployments?.bind(sources);
    const counter = (name: string, help: string) => new Counter({ name, help, labelNames: ['strategy', 'environment'] as const, registers });
    this.started = counter('hotswap_deployments_started_total', 'Deployments started');
    this.completed = counter('hotswap_deployments_completed_total', 'Deployments that ended COMPLETED');
    this.failed = counter('hotswap_deployments_failed_total', 'Deployments that ended FAILED');
    this.rolledBack = counter('hotswap_deployments_rolledback_total', 'Deployments that ended ROLLED_BACK');
    this.duration = new Histogram({
      name: 'hotswap_deployment_duration_seconds',
      help: 'From startDeployment to the end (COMPLETED, FAILED or ROLLED_BACK)',
      labelNames: ['strategy', 'environment', 'status'] as const,
      buckets: DEPLOYMENT_BUCKETS,
      registers,
    });
    this.reload = new Histogram({
      name: 'hotswap_config_reload_duration_seconds',
      help: 'How long instances took to apply a config, from their acks',
      buckets: FAST_BUCKETS,
      registers,
    });
    this.pushLatency = new Histogram({
      name: 'hotswap_config_push_latency_seconds',
      help: 'From a push being published to this replica handing it to its subscribers',
      buckets: FAST_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'hotswap_active_deployments',
      help: 'Deployments PENDING, IN_PROGRESS, PAUSED or ROLLING_BACK (fleet-wide: use max() across replicas)',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        this.reset();
        // Every active status is reported, 0 included, so a query never sees a series vanish.
        const counts = await sources.activeDeployments().catch(() => null);
        if (counts === null) return;
        for (const status of ACTIVE_STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    });
    new Gauge({
      name: 'hotswap_registered_instances',
      help: 'Registered instances by service, environment and status (fleet-wide: use max() across replicas)',
      labelNames: ['service', 'environment', 'status'] as const,
      registers,
      async collect() {
        this.reset();
        // A registry that does not answer leaves the series out for this scrape rather than failing it.
        const counts = await sources.instancesByService().catch(() => []);
        for (const c of counts) this.set({ service: c.service, environment: c.environment, status: c.status }, c.count);
      },
    });
    this.verdicts = new Counter({
      name: 'hotswap_health_verdicts_total',
      help: 'Health verdicts of the deployments this replica runs (each phase end and each periodic check), by verdict',
      labelNames: ['verdict', 'environment'] as const,
      registers,
    });
    const latest = this.latestVerdicts;
    const prune = () => this.pruneVerdicts();
    new Gauge({
      name: 'hotswap_deployment_health_verdict',
      help:
        'Latest health verdict of each deployment this replica runs: 1 PASS, 0 INCONCLUSIVE, -1 FAIL; ' +
        'the series goes when the deployment ends or another replica takes it over (max by (deployment_id) across replicas)',
      labelNames: ['deployment_id', 'profile', 'environment'] as const,
      registers,
      collect() {
        this.reset();
        prune();
        for (const [id, v] of latest) this.set({ deployment_id: id, profile: v.profile, environment: v.environment }, v.value);
      },
    });
    new Gauge({
      name: 'hotswap_subscribers',
      help: 'Open configUpdates subscriptions on this replica (sum() across replicas)',
      registers,
      collect() {
        this.set(sources.subscribers());
      },
    });
    // Every series exists from the start at 0: increase() and rate() cannot see a counter's first step otherwise.
    for (const strategy of Object.values(DeploymentStrategy)) {
      for (const environment of Object.values(Environment)) {
        for (const c of [this.started, this.completed, this.failed, this.rolledBack]) c.inc({ strategy, environment }, 0);
      }
    }
    for (const verdict of Object.values(HealthVerdict)) {
      for (const environment of Object.values(Environment)) this.verdicts.inc({ verdict, environment }, 0);
    }
    collectDefaultMetrics({ register: this.registry });
  }

  deploymentStarted(strategy: DeploymentStrategy, environment: Environment): void {
    this.started.inc({ strategy, environment });
  }

  /** A deployment ended: its outcome counter and its duration; its verdict series goes. */
  deploymentEnded(d: { id: string; strategy: DeploymentStrategy; environment: Environment; createdAt: Date }, status: DeploymentStatus, at: Date): void {
    this.latestVerdicts.delete(d.id);
    const labels = { strategy: d.strategy, environment: d.environment };
    const counter = { COMPLETED: this.completed, FAILED: this.failed, ROLLED_BACK: this.rolledBack }[status as 'COMPLETED' | 'FAILED' | 'ROLLED_BACK'];
    if (!counter) return;
    counter.inc(labels);
    this.duration.observe({ ...labels, status }, Math.max(0, (at.getTime() - d.createdAt.getTime()) / 1000));
  }

  /** A health verdict on a deployment (HealthMonitor's `judged`): counted, and its deployment's latest until it ends. */
  healthJudged(d: { id: string; profileName: string; environment: Environment }, verdict: HealthVerdict): void {
    this.verdicts.inc({ verdict, environment: d.environment });
    this.latestVerdicts.set(d.id, { profile: d.profileName, environment: d.environment, value: VERDICT_VALUE[verdict] });
  }

  configReloaded(reloadMs: number): void {
    this.reload.observe(reloadMs / 1000);
  }

  pushDelivered(publishedAtMs: number): void {
    this.pushLatency.observe(Math.max(0, Date.now() - publishedAtMs) / 1000);
  }

  /**
   * Drops, at each scrape, the verdicts of deployments this replica no longer
   * runs: one another replica took over (and maybe ended), whose end this
   * replica never sees. So the gauge has at most one series per deployment
   * this replica runs (the runner's maxConcurrent, 50), whatever happens to
   * the others; deploymentEnded drops the ones that end here at once.
   */
  private pruneVerdicts(): void {
    if (this.held === undefined) return;
    const held = new Set(this.held());
    for (const id of this.latestVerdicts.keys()) if (!held.has(id)) this.latestVerdicts.delete(id);
  }

  /** The text exposition; a gauge whose source failed leaves its series out rather than failing the scrape. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
