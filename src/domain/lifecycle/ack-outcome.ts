import { TargetState } from '../deployment.js';

/** An instance's ack of a push, as the target it answers sees it. */
export interface AckOnTarget {
  /** The target's state when the ack arrives. */
  state: TargetState;
  /** The version pushed to the target (the deployment's, or the previous one during a rollback). */
  pushedVersion: number;
  /** The deployment's version. */
  deploymentVersion: number;
  /** The version the instance acknowledges. */
  ackedVersion: number;
  success: boolean;
  /** The instance's error text, when it failed. */
  error: string | null;
}

/** Said for a failed ack that gave no reason. */
export const DEFAULT_ACK_ERROR = 'the instance reported a failure';

/**
 * What an ack does to its target: only a PUSHED target answered with the
 * version pushed to it moves (null: the ack changes nothing, e.g. a late ack
 * of an earlier push, or one after the target timed out). A failure is
 * FAILED with the instance's reason; a success is APPLIED for the
 * deployment's version and ROLLED_BACK for the previous one a rollback
 * pushed. The SQL of InstanceConfigRepository.recordAcks applies the same
 * rule to a batch (test/integration/ack-outcome.test.ts holds them equal).
 */
export function ackOutcome(a: AckOnTarget): { state: TargetState; error: string | null } | null {
  if (a.state !== TargetState.PUSHED || a.ackedVersion !== a.pushedVersion) return null;
  if (!a.success) return { state: TargetState.FAILED, error: a.error ?? DEFAULT_ACK_ERROR };
  return { state: a.pushedVersion === a.deploymentVersion ? TargetState.APPLIED : TargetState.ROLLED_BACK, error: null };
}
