import { describe, expect, it } from 'vitest';
import { EventType } from '../../../../src/domain/deployment-model.js';
import { DeploymentStatus as S } from '../../../../src/domain/enums.js';
import { ConflictError } from '../../../../src/domain/errors.js';
import {
  ACTIVE_STATUSES,
  assertTransition,
  canTransition,
  FINISHED_STATUSES,
  isFinished,
  TERMINAL_STATUSES,
  transitionEvent,
} from '../../../../src/domain/lifecycle/status.js';

/** The lifecycle, written out once more by hand: a change to the table must change this too. */
const ALLOWED: Record<S, Partial<Record<S, EventType>>> = {
  [S.PENDING]: { [S.IN_PROGRESS]: EventType.PHASE_STARTED, [S.CANCELLED]: EventType.CANCELLED },
  [S.IN_PROGRESS]: { [S.PAUSED]: EventType.PAUSED, [S.COMPLETED]: EventType.COMPLETED, [S.FAILED]: EventType.FAILED, [S.ROLLING_BACK]: EventType.ROLLBACK_STARTED },
  [S.PAUSED]: { [S.IN_PROGRESS]: EventType.RESUMED, [S.ROLLING_BACK]: EventType.ROLLBACK_STARTED },
  [S.ROLLING_BACK]: { [S.ROLLED_BACK]: EventType.ROLLED_BACK, [S.FAILED]: EventType.FAILED },
  [S.COMPLETED]: { [S.ROLLING_BACK]: EventType.ROLLBACK_STARTED },
  [S.FAILED]: {},
  [S.ROLLED_BACK]: {},
  [S.CANCELLED]: {},
};

const ALL = Object.values(S);
const pairs = ALL.flatMap((from) => ALL.map((to) => [from, to, ALLOWED[from][to] ?? null] as const));

describe('deployment status transitions', () => {
  it.each(pairs)('%s → %s records %s', (from, to, event) => {
    expect(canTransition(from, to)).toBe(event !== null);
    if (event !== null) {
      expect(transitionEvent(from, to)).toBe(event);
      expect(() => assertTransition(from, to)).not.toThrow();
    } else {
      expect(() => transitionEvent(from, to)).toThrow(ConflictError);
    }
  });

  it('explains a refused move', () => {
    expect(() => assertTransition(S.COMPLETED, S.PAUSED)).toThrow(
      'deployment is COMPLETED; cannot move to PAUSED (from COMPLETED it may move to ROLLING_BACK)',
    );
    expect(() => assertTransition(S.CANCELLED, S.IN_PROGRESS)).toThrow(/CANCELLED is final/);
  });

  it('derives the active, terminal and finished sets', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual([S.CANCELLED, S.FAILED, S.ROLLED_BACK]);
    expect([...ACTIVE_STATUSES].sort()).toEqual([S.IN_PROGRESS, S.PAUSED, S.PENDING, S.ROLLING_BACK]);
    expect(ALL.filter(isFinished).sort()).toEqual([S.CANCELLED, S.COMPLETED, S.FAILED, S.ROLLED_BACK]);
    expect([...FINISHED_STATUSES].sort()).toEqual([S.CANCELLED, S.COMPLETED, S.FAILED, S.ROLLED_BACK]);
    // Every status is active or finished, never both.
    for (const s of ALL) expect(ACTIVE_STATUSES.includes(s) !== isFinished(s)).toBe(true);
  });
});
