import { describe, expect, it } from 'vitest';
import {
  ACTIVE_STATUSES,
  assertTransition,
  canTransition,
  isActive,
  isTerminal,
  summarizeTargets,
  TargetState,
} from '../../../src/domain/deployment.js';
import { DeploymentStatus as S } from '../../../src/domain/enums.js';
import { ConflictError } from '../../../src/domain/errors.js';

const ALLOWED: Record<S, S[]> = {
  [S.PENDING]: [S.IN_PROGRESS, S.CANCELLED, S.FAILED],
  [S.IN_PROGRESS]: [S.PAUSED, S.COMPLETED, S.FAILED, S.ROLLING_BACK, S.CANCELLED],
  [S.PAUSED]: [S.IN_PROGRESS, S.ROLLING_BACK, S.CANCELLED],
  [S.ROLLING_BACK]: [S.ROLLED_BACK, S.FAILED],
  [S.COMPLETED]: [S.ROLLING_BACK],
  [S.FAILED]: [],
  [S.ROLLED_BACK]: [],
  [S.CANCELLED]: [],
};

const ALL = Object.values(S);
const pairs = ALL.flatMap((from) => ALL.map((to) => [from, to, ALLOWED[from].includes(to)] as const));

describe('deployment status transitions', () => {
  it.each(pairs)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
    if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
    else expect(() => assertTransition(from, to)).toThrow(ConflictError);
  });

  it('explains a refused move', () => {
    expect(() => assertTransition(S.COMPLETED, S.PAUSED)).toThrow(
      'deployment is COMPLETED; cannot move to PAUSED (from COMPLETED it may move to ROLLING_BACK)',
    );
    expect(() => assertTransition(S.CANCELLED, S.IN_PROGRESS)).toThrow(/CANCELLED is final/);
  });

  it('knows terminal and active statuses', () => {
    expect(ALL.filter(isTerminal).sort()).toEqual([S.CANCELLED, S.FAILED, S.ROLLED_BACK]);
    expect(ALL.filter(isActive).sort()).toEqual([S.IN_PROGRESS, S.PAUSED, S.PENDING, S.ROLLING_BACK]);
    expect([...ACTIVE_STATUSES].sort()).toEqual([S.IN_PROGRESS, S.PAUSED, S.PENDING, S.ROLLING_BACK]);
    expect(isActive(S.COMPLETED) || isTerminal(S.COMPLETED)).toBe(false);
  });
});

describe('summarizeTargets', () => {
  it('gives zeros and progress 0 for no targets', () => {
    expect(summarizeTargets([])).toMatchObject({ total: 0, applied: 0, failed: 0, timedOut: 0, pending: 0, progress: 0 });
  });

  it('counts each state and computes progress = applied / total', () => {
    const states = [
      TargetState.APPLIED, TargetState.APPLIED, TargetState.APPLIED,
      TargetState.FAILED, TargetState.TIMED_OUT, TargetState.PENDING,
      TargetState.PUSHED, TargetState.ROLLED_BACK,
    ];
    expect(summarizeTargets(states.map((state) => ({ state })))).toEqual({
      total: 8, applied: 3, failed: 1, timedOut: 1, pending: 2, left: 0, progress: 3 / 8, rolledBack: 1,
    });
  });

  it('counts LEFT targets apart, and leaves them out of progress', () => {
    const r = summarizeTargets([{ state: TargetState.APPLIED }, { state: TargetState.APPLIED }, { state: TargetState.LEFT }]);
    expect(r).toMatchObject({ total: 3, applied: 2, left: 1, failed: 0, timedOut: 0, pending: 0, progress: 1 });
    expect(summarizeTargets([{ state: TargetState.LEFT }]).progress).toBe(0);
  });

  it('reaches progress 1 when every target applied', () => {
    expect(summarizeTargets([{ state: TargetState.APPLIED }, { state: TargetState.APPLIED }]).progress).toBe(1);
  });

  it('has string values for target states', () => {
    expect(TargetState.TIMED_OUT).toBe('TIMED_OUT');
  });
});
