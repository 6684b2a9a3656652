/**
 * Where a health policy's queried metrics come from: an outside metrics store
 * (Prometheus) asked for the samples of one group of instances over a window.
 * The health monitor asks once for the canary and once for the control group.
 */

/** Which side of the comparison a query is for; `{{group}}` in a query expands to it. */
export type QueryGroup = 'canary' | 'control';

/** What a query's placeholders expand to. */
export interface QueryScope {
  service: string;
  environment: string;
  /** The version the group runs: the new one for the canary, the previous one for the control. */
  version: number;
  /** The group's instance ids; `{{instances}}` expands to them as a regex alternation (each escaped). */
  instanceIds: readonly string[];
  group: QueryGroup;
}

export interface QueryWindow {
  from: Date;
  to: Date;
  /** Seconds between two samples of a series. */
  stepSeconds: number;
}

/** A query that could not be answered: unreachable, timed out, refused, or not a vector of numbers. Never counted healthy. */
export class MetricQueryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetricQueryError';
  }
}

export interface MetricSource {
  /**
   * Every finite value of every series the query returns over the window, one
   * per series per step (non-finite values, NaN from a 0/0 rate, are left out).
   * @throws MetricQueryError when the source cannot answer after its retries
   */
  samples(query: string, scope: QueryScope, window: QueryWindow): Promise<number[]>;
}
