import type { DeploymentDetail } from './queries';
import { percent } from './queries';

type StepState = 'done' | 'current' | 'failed' | 'waiting';

function stepState(d: DeploymentDetail, phase: number): StepState {
  if (phase < d.phase) return 'done';
  if (phase > d.phase) return 'waiting';
  if (d.status === 'COMPLETED') return 'done';
  if (['FAILED', 'ROLLED_BACK', 'ROLLING_BACK'].includes(d.status)) return 'failed';
  return 'current';
}

const WORDS: Record<StepState, string> = { done: 'done', current: 'in progress', failed: 'stopped', waiting: 'waiting' };

/** The phases as a track: done, the current one, those to come; with each phase's applied targets. */
export function PhaseTrack({ d }: { d: DeploymentDetail }) {
  const phases = Array.from({ length: d.phaseCount }, (_, i) => i + 1);
  return (
    <section className="panel" aria-labelledby="track-title">
      <h2 id="track-title">
        Phases <span className="muted">({d.phase === 0 ? 'not started' : `phase ${d.phase} of ${d.phaseCount}`})</span>
      </h2>
      <ol className="phase-track">
        {phases.map((p) => {
          const targets = d.targets.filter((t) => t.phase === p);
          const applied = targets.filter((t) => t.state === 'APPLIED').length;
          const undone = targets.filter((t) => t.state === 'ROLLED_BACK').length;
          const state = stepState(d, p);
          return (
            <li key={p} className={`phase-step phase-${state}`} aria-current={state === 'current' ? 'step' : undefined} data-testid={`phase-${p}`} data-state={state}>
              <span className="phase-dot" aria-hidden="true">
                {state === 'done' ? '✓' : state === 'failed' ? '✕' : p}
              </span>
              <span className="phase-label">
                Phase {p} <span className="muted">· {WORDS[state]}</span>
              </span>
              <span className="phase-count">
                {undone > 0 ? `${undone}/${targets.length} rolled back` : `${applied}/${targets.length} applied`}
              </span>
            </li>
          );
        })}
      </ol>
      <div className="dp-progress" role="progressbar" aria-label="Share of targets updated" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(d.progress * 100)}>
        <div className="dp-progress-bar" style={{ width: `${Math.round(d.progress * 100)}%` }} />
      </div>
      <p className="hint">{percent(d.progress)} of the targets updated</p>
    </section>
  );
}
