import type { GqlError } from '../../api/graphql';
import { ErrorBox } from '../../components/error-box';
import type { DeploymentPlan } from './queries';

/** What startDeployment would do now: its phases and how many instances each updates. */
export function PlanPreview(props: { plan: DeploymentPlan | undefined; error: GqlError | undefined; loading: boolean; problems: string[] }) {
  const { plan, error, loading, problems } = props;
  return (
    <section className="panel dp-plan" aria-labelledby="plan-title" aria-live="polite" aria-busy={loading}>
      <h2 id="plan-title">Plan preview</h2>
      {problems.length > 0 && (
        <ul className="dp-problems">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      {problems.length === 0 && error && <ErrorBox error={error} title="This deployment would be refused" />}
      {problems.length === 0 && !error && !plan && loading && <p className="loading">Planning…</p>}
      {problems.length === 0 && !error && plan && (
        <>
          <p data-testid="plan-summary">
            {plan.strategy.replace('_', ' ')} to <strong>{plan.targetCount}</strong> connected instance{plan.targetCount === 1 ? '' : 's'} in{' '}
            <strong>{plan.phases.length}</strong> phase{plan.phases.length === 1 ? '' : 's'}
            {plan.color && (
              <>
                {' '}
                on the <strong>{plan.color}</strong> color
              </>
            )}
            {loading && <span className="muted"> (updating…)</span>}
          </p>
          <ol className="plan-phases" aria-label="Planned phases">
            {plan.phases.map((p) => (
              <li key={p.phase} data-testid="planned-phase">
                <span className="plan-phase-name">Phase {p.phase}</span>
                <span className="plan-phase-size">
                  {p.instances} instance{p.instances === 1 ? '' : 's'}
                </span>
                <span className="muted">{p.observeSeconds > 0 ? `observed ${p.observeSeconds} s` : 'no observation'}</span>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
