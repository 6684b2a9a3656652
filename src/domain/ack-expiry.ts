/**
 * What becomes of a push whose ack deadline passed, from whether its instance
 * is still there. Pure: the orchestrator reads the presence, this decides.
 */

/** Whether an instance holds a config subscription (as the registry keeps it). */
export interface PresenceView {
  connections: number;
  disconnectedAt: Date | null;
}

export type AckExpiry =
  /** Connected and silent: the push failed (counts against the deployment). */
  | { kind: 'timed-out'; error: string }
  /** Gone: deregistered, never back within the grace, or no trace of it (does not fail the deployment). */
  | { kind: 'left'; error: string }
  /** Disconnected less than the grace ago: wait until `until` for it to come back and ack. */
  | { kind: 'grace'; until: Date };

/**
 * - connected (any replica) → TIMED_OUT: it is there and did not answer;
 * - disconnected for less than `graceMs` → wait for it until disconnectedAt + graceMs
 *   (a reconnecting instance is sent what it was assigned, and acks it);
 * - disconnected longer, or no presence at all (deregistered, reaped, or its
 *   record lost) → LEFT.
 *
 * @example expireAck({ connections: 0, disconnectedAt: t }, t + 3 s, 15 s, 30) → grace until t + 15 s
 */
export function expireAck(presence: PresenceView | undefined, now: Date, graceMs: number, ackTimeoutSeconds: number): AckExpiry {
  if (presence !== undefined && presence.connections > 0) return { kind: 'timed-out', error: `no ack within ${ackTimeoutSeconds} s` };
  if (presence === undefined || presence.disconnectedAt === null) {
    return { kind: 'left', error: 'the instance is gone (deregistered or no longer registered) and did not ack' };
  }
  const until = presence.disconnectedAt.getTime() + graceMs;
  if (until > now.getTime()) return { kind: 'grace', until: new Date(until) };
  return {
    kind: 'left',
    error: `disconnected at ${presence.disconnectedAt.toISOString()} and not back within ${Math.round(graceMs / 1000)} s`,
  };
}
