import type { Logger } from 'pino';

/** A unit of periodic work; `signal` aborts when the scheduler stops. */
export interface ScheduledJob {
  name: string;
  intervalMs: number;
  run(signal: AbortSignal): Promise<void>;
}

/**
 * Owns every periodic timer of the process, registered in one place (app.ts).
 * Runs of one job never overlap: the next run is scheduled when the previous
 * one ends. stop() is idempotent, aborts running jobs and waits for them.
 */
export class Scheduler {
  private readonly jobs: ScheduledJob[] = [];
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private controller: AbortController | undefined;

  constructor(private readonly logger: Logger) {}

  register(job: ScheduledJob): void {
    if (this.jobs.some((j) => j.name === job.name)) throw new Error(`job ${job.name} is registered twice`);
    this.jobs.push(job);
  }

  start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    for (const job of this.jobs) this.schedule(job, controller.signal);
  }

  /** Runs a job now (outside its schedule), e.g. to react to an event without waiting. */
  trigger(name: string): void {
    const job = this.jobs.find((j) => j.name === name);
    const signal = this.controller?.signal;
    if (!job || !signal || signal.aborted) return;
    const timer = this.timers.get(name);
    // A job that is running now has no timer; it picks up the work on its next run.
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(name);
    this.runOnce(job, signal);
  }

  async stop(): Promise<void> {
    const controller = this.controller;
    if (!controller) return;
    controller.abort();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
    this.controller = undefined;
  }

  private schedule(job: ScheduledJob, signal: AbortSignal): void {
    if (signal.aborted) return;
    const timer = setTimeout(() => {
      this.timers.delete(job.name);
      this.runOnce(job, signal);
    }, job.intervalMs);
    timer.unref();
    this.timers.set(job.name, timer);
  }

  private runOnce(job: ScheduledJob, signal: AbortSignal): void {
    const run = job
      .run(signal)
      .catch((error: unknown) => {
        if (!signal.aborted) this.logger.error({ err: error, job: job.name }, 'scheduled job failed');
      })
      .finally(() => {
        this.running.delete(run);
        this.schedule(job, signal);
      });
    this.running.add(run);
  }
}
