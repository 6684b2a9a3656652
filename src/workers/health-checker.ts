import type { Logger } from 'pino';
import { LeaseLostError, type Orchestrator } from '../orchestrator/orchestrator.js';
import { describeForLog } from '../telemetry/log-errors.js';
import type { ScheduledJob } from './scheduler.js';

/** The deployments a replica holds the lease of, and how to make their runner look now. */
export interface LeaseHolder {
  readonly owner: string;
  heldIds(): string[];
  wake(deploymentId: string): void;
}

export interface HealthCheckerOptions {
  /** How often every held deployment is checked, besides the checks at phase ends. @default 30000 */
  intervalMs: number;
}

/**
 * Checks the health of every running or paused deployment this replica holds
 * the lease of, every `intervalMs`: with several replicas each deployment has
 * exactly one checker, its lease holder. A degraded verdict starts the rollback
 * (or pauses, without autoRollback) and wakes the deployment's runner.
 */
export class HealthChecker {
  constructor(
    private readonly orchestrator: Orchestrator,
    private readonly runner: LeaseHolder,
    private readonly logger: Logger,
    private readonly options: HealthCheckerOptions,
  ) {}

  job(): ScheduledJob {
    return { name: 'health-checker', intervalMs: this.options.intervalMs, run: (signal) => this.checkAll(signal) };
  }

  async checkAll(signal?: AbortSignal): Promise<void> {
    for (const id of this.runner.heldIds()) {
      if (signal?.aborted) return;
      try {
        if (await this.orchestrator.checkHealth(id, this.runner.owner)) this.runner.wake(id);
      } catch (error) {
        if (error instanceof LeaseLostError) continue;
        this.logger.warn({ error: describeForLog(error), deploymentId: id }, 'health check failed; trying again at the next interval');
      }
    }
  }
}
