import type { InstanceIdentityService } from '../services/instance-identity.service.js';
import type { ScheduledJob } from './scheduler.js';

/** How often the ids of ended instances are swept: they are kept for days, an hour late is nothing. */
export const ENDED_INSTANCE_SWEEP_INTERVAL_MS = 3_600_000;

/**
 * Deletes the ended-instance records that no valid token can name any more
 * (older than the instance token lifetime, see endedRetentionSeconds). One
 * DELETE by the indexed end time; safe on every replica at once.
 */
export class EndedInstanceSweeper {
  constructor(
    private readonly identities: Pick<InstanceIdentityService, 'forgetExpired'>,
    private readonly intervalMs = ENDED_INSTANCE_SWEEP_INTERVAL_MS,
  ) {}

  job(): ScheduledJob {
    return {
      name: 'ended-instance-sweeper',
      intervalMs: this.intervalMs,
      run: async (signal) => {
        if (!signal.aborted) await this.identities.forgetExpired();
      },
    };
  }
}
