import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { type DeploymentRecord, INITIAL_STRATEGY_STATE } from '../../../src/domain/deployment-model.js';
import { withPolicyDefaults } from '../../../src/domain/health-policy.js';
import { DeploymentStatus as S, DeploymentStrategy, Environment } from '../../../src/domain/enums.js';
import { ConflictError } from '../../../src/domain/errors.js';
import { canTransition, transitionEvent } from '../../../src/domain/lifecycle/status.js';
import { DeploymentTracing } from '../../../src/orchestrator/deployment-tracing.js';
import { DEFAULT_ORCHESTRATOR_SETTINGS, Step, type StepDependencies } from '../../../src/orchestrator/step.js';
import { directStrategy } from '../../../src/orchestrator/strategies/direct.js';
import type { Repositories } from '../../../src/store/database.js';

const SRC = path.resolve(import.meta.dirname, '../../../src');

function deployment(status: S): DeploymentRecord {
  const at = new Date('2026-01-01T00:00:00Z');
  return {
    id: 'dep-1', profileId: 'prof-1', profileName: 'checkout', service: 'checkout', environment: Environment.STAGING,
    version: 2, previousVersion: 1, options: { strategy: DeploymentStrategy.DIRECT, direct: { maxConcurrency: 10 } },
    healthPolicy: withPolicyDefaults({ autoRollback: true }), ackTimeoutSeconds: 30, status, phase: 1, phaseCount: 1,
    state: INITIAL_STRATEGY_STATE, result: { total: 0, applied: 0, failed: 0, timedOut: 0, pending: 0, left: 0, progress: 0 },
    startedBy: 'test', rollbackReason: null, failureReason: null, traceContext: null, createdAt: at, updatedAt: at, finishedAt: null,
  } as DeploymentRecord;
}

/** A step over storage that records what it is asked to write. */
function stepOver(status: S) {
  const update = vi.fn(() => Promise.resolve());
  const insertEvent = vi.fn(() => Promise.resolve());
  const r = { deployments: { update, insertEvent }, targets: { counts: () => Promise.resolve({}) } } as unknown as Repositories;
  const deps = { settings: DEFAULT_ORCHESTRATOR_SETTINGS, tracing: new DeploymentTracing() } as unknown as StepDependencies;
  return { step: new Step(r, deployment(status), new Date(), directStrategy, deps), update, insertEvent };
}

const ALL = Object.values(S);

describe('the one status writer (Step.transition)', () => {
  const illegal = ALL.flatMap((from) => ALL.filter((to) => !canTransition(from, to)).map((to) => [from, to] as const));
  const legal = ALL.flatMap((from) => ALL.filter((to) => canTransition(from, to)).map((to) => [from, to] as const));

  it.each(illegal)('refuses %s → %s and writes nothing', async (from, to) => {
    const { step, update, insertEvent } = stepOver(from);
    await expect(step.transition({ status: to }, 'try')).rejects.toBeInstanceOf(ConflictError);
    expect(update).not.toHaveBeenCalled();
    expect(insertEvent).not.toHaveBeenCalled();
    expect(step.d.status).toBe(from);
  });

  it.each(legal)('applies %s → %s: the status written first, then the move\'s event with the new status', async (from, to) => {
    const { step, update, insertEvent } = stepOver(from);
    await step.transition({ status: to }, 'moved');
    expect(update).toHaveBeenCalledWith('dep-1', { status: to }, expect.any(Date));
    expect(insertEvent).toHaveBeenCalledWith(expect.objectContaining({ type: transitionEvent(from, to), status: to, message: 'moved' }));
    expect(update.mock.invocationCallOrder[0]).toBeLessThan(insertEvent.mock.invocationCallOrder[0]!);
  });

  it('update() cannot carry a status: only transition writes one', () => {
    const { step } = stepOver(S.IN_PROGRESS);
    // @ts-expect-error status is not part of a plain update
    void step.update({ status: S.COMPLETED });
  });
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('who writes a deployment', () => {
  const files = sources(SRC).map((f) => ({ file: path.relative(SRC, f), text: readFileSync(f, 'utf8') }));

  it('only the status writer updates a deployment row', () => {
    expect(files.filter((f) => /deployments\.update\(/.test(f.text)).map((f) => f.file)).toEqual(['orchestrator/step.ts']);
  });

  it('only the launcher creates one (always PENDING), and no SQL outside the repository sets a status', () => {
    expect(files.filter((f) => /deployments\.insert\(/.test(f.text)).map((f) => f.file)).toEqual(['orchestrator/launcher.ts']);
    const sqlWriters = files.filter((f) => /update deployment set[^`]*status/i.test(f.text)).map((f) => f.file);
    expect(sqlWriters.filter((f) => f !== 'store/deployment.repository.ts')).toEqual([]);
  });
});
