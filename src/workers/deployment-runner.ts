import type { Logger } from 'pino';
import { isFinished } from '../domain/lifecycle/status.js';
import { LeaseLostError, type Orchestrator, type StepResult } from '../orchestrator/orchestrator.js';
import type { Adopter } from '../orchestrator/launcher.js';
import type { PubSub } from '../pubsub/pubsub.js';
import { Topics, type WakeMessage } from '../pubsub/topics.js';
import type { Database } from '../store/database.js';
import { describeForLog } from '../telemetry/log-errors.js';
import type { ScheduledJob } from './scheduler.js';

export interface DeploymentRunnerOptions {
  /** This replica's lease owner name. */
  owner: string;
  /** How long a lease lasts without renewal; another replica takes over after it. @default 15000 */
  leaseMs: number;
  /** How often to look for deployments to claim (new ones, or ones whose runner died). @default 1000 */
  claimIntervalMs: number;
  /** Most deployments this replica runs at once. @default 50 */
  maxConcurrent: number;
}

interface Running {
  wake: () => void;
  done: Promise<void>;
  controller: AbortController;
}

/**
 * Runs deployments on this replica: claims runnable ones under a PostgreSQL
 * lease (compare-and-set, database clock), renews the lease while it steps the
 * deployment, and stops at once when the lease is lost. Acks and new
 * deployments wake it through pub/sub; the claim job finds the rest.
 */
export class DeploymentRunner implements Adopter {
  private readonly running = new Map<string, Running>();
  private wakeSubscription: number | undefined;
  private stopped = false;
  /** Takes new deployments only once started (and listening for the wake-ups of their acks). */
  private started = false;

  constructor(
    private readonly db: Database,
    private readonly orchestrator: Orchestrator,
    private readonly pubsub: PubSub,
    private readonly logger: Logger,
    private readonly options: DeploymentRunnerOptions,
  ) {}

  job(): ScheduledJob {
    return { name: 'deployment-runner', intervalMs: this.options.claimIntervalMs, run: () => this.claim() };
  }

  async start(): Promise<void> {
    this.wakeSubscription = await this.pubsub.subscribe<WakeMessage>(Topics.deploymentWake, (m) => this.onWake(m));
    this.started = true;
  }

  /** Deployments this replica is running now. */
  get activeCount(): number {
    return this.running.size;
  }

  /** The deployments this replica runs now (and holds the lease of). */
  heldIds(): string[] {
    return [...this.running.keys()];
  }

  /** Makes the runner of a deployment held here take its next step now. */
  wake(deploymentId: string): void {
    this.running.get(deploymentId)?.wake();
  }

  /**
   * The lease a deployment created on this replica starts with, so that its
   * first step runs in the creating transaction and this runner goes on with
   * it (adopt); null when it takes no more now (a claim picks it up then).
   */
  leaseForNew(): { owner: string; ms: number } | null {
    if (!this.started || this.stopped || this.running.size >= this.options.maxConcurrent) return null;
    return { owner: this.options.owner, ms: this.options.leaseMs };
  }

  /** Goes on with a deployment created here under this runner's lease, whose first step is committed: the next after `first.waitMs`. */
  adopt(deploymentId: string, first: StepResult): void {
    if (first.done || this.running.has(deploymentId)) return;
    if (this.stopped) {
      void this.db.transaction((r) => r.deployments.releaseLease(deploymentId, this.options.owner)).catch(() => undefined);
      return;
    }
    this.launch(deploymentId, first.waitMs);
  }

  /** This replica's lease owner name. */
  get owner(): string {
    return this.options.owner;
  }

  async claim(): Promise<void> {
    if (this.stopped) return;
    const room = this.options.maxConcurrent - this.running.size;
    if (room <= 0) return;
    const ids = await this.db.transaction((r) => r.deployments.claim(this.options.owner, this.options.leaseMs, room));
    for (const id of ids) if (!this.running.has(id)) this.launch(id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Stopping twice (shutdown after a failed start, say) unsubscribes once.
    if (this.wakeSubscription !== undefined) this.pubsub.unsubscribe(this.wakeSubscription);
    this.wakeSubscription = undefined;
    for (const r of this.running.values()) r.controller.abort();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }

  private onWake(message: WakeMessage): void {
    const running = this.running.get(message.deploymentId);
    if (running) running.wake();
    else if (message.reason !== 'ack') void this.claim().catch((error: unknown) => this.logger.warn({ err: error }, 'claim failed'));
  }

  /** `afterFirstStep`: the wait the first step asked for, when it ran at creation (nothing to resume then). */
  private launch(id: string, afterFirstStep?: number): void {
    const controller = new AbortController();
    // A wake-up that comes while a step runs is kept, so the next sleep ends at once.
    let pendingWake = false;
    let finishSleep: (() => void) | undefined;
    const wake = () => {
      if (finishSleep) finishSleep();
      else pendingWake = true;
    };
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        if (pendingWake || controller.signal.aborted) {
          pendingWake = false;
          return resolve();
        }
        const finish = () => {
          clearTimeout(timer);
          controller.signal.removeEventListener('abort', finish);
          finishSleep = undefined;
          resolve();
        };
        const timer = setTimeout(finish, ms);
        finishSleep = finish;
        controller.signal.addEventListener('abort', finish);
      });
    const done = this.run(id, controller, sleep, afterFirstStep).finally(() => this.running.delete(id));
    this.running.set(id, { controller, wake, done });
  }

  private async run(id: string, controller: AbortController, sleep: (ms: number) => Promise<void>, afterFirstStep?: number): Promise<void> {
    const { owner, leaseMs } = this.options;
    // Renewals never overlap: the next is scheduled when the previous one ended.
    let renewal: NodeJS.Timeout | undefined;
    const renew = () => {
      renewal = setTimeout(() => {
        this.db
          .transaction((r) => r.deployments.renewLease(id, owner, leaseMs))
          .then(async (held) => {
            if (held) return;
            controller.abort();
            // A deployment that finished meanwhile released its lease: nothing was lost.
            const d = await this.db.read((r) => r.deployments.get(id));
            if (d && !isFinished(d.status)) this.logger.warn({ deploymentId: id }, 'lost the lease on a deployment; another replica runs it now');
          })
          .catch((error: unknown) => this.logger.warn({ error: describeForLog(error), deploymentId: id }, 'lease renewal failed'))
          .finally(() => {
            if (!controller.signal.aborted) renew();
          });
      }, Math.max(100, Math.floor(leaseMs / 3)));
    };
    renew();
    try {
      if (afterFirstStep === undefined) await this.orchestrator.resume(id, owner);
      else if (afterFirstStep > 0) await sleep(afterFirstStep);
      while (!controller.signal.aborted) {
        try {
          const result = await this.orchestrator.step(id, owner);
          if (result.done) return;
          if (result.waitMs > 0) await sleep(result.waitMs);
        } catch (error) {
          if (error instanceof LeaseLostError) return;
          this.logger.error({ error: describeForLog(error), deploymentId: id }, 'deployment step failed; retrying');
          await sleep(1000);
        }
      }
    } catch (error) {
      if (!(error instanceof LeaseLostError)) this.logger.error({ error: describeForLog(error), deploymentId: id }, 'deployment run failed');
    } finally {
      controller.abort();
      clearTimeout(renewal);
      if (this.stopped) {
        // Hand the deployment over at once instead of after the lease expires.
        await this.db.transaction((r) => r.deployments.releaseLease(id, owner)).catch(() => undefined);
      }
    }
  }
}
