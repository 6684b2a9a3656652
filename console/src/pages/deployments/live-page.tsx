import { Link } from 'wouter';
import { StatusBadge, Time } from '../../components/badges';
import { ErrorBox, Loading } from '../../components/error-box';
import { Controls } from './controls';
import { EventLog } from './event-log';
import { HealthChart } from './health-chart';
import { HealthPanel } from './health-panel';
import { PhaseTrack } from './phase-track';
import { FINISHED } from './queries';
import { TargetsTable } from './targets-table';
import { useLiveDeployment } from './use-live-deployment';

/** Whether live updates flow; after a drop, says it caught up. */
function LiveState({ connected, catchUps, ended }: { connected: boolean | null; catchUps: number; ended: boolean }) {
  // A finished deployment's stream ends and the idle websocket closes: nothing is missed.
  if (ended) {
    return (
      <p className="live-state muted" role="status" data-testid="live-state">
        ended: no more live updates
      </p>
    );
  }
  if (connected === false) {
    return (
      <p className="live-state live-down" role="status" data-testid="live-state">
        Live updates lost — reconnecting… (what happens meanwhile is caught up on return)
      </p>
    );
  }
  return (
    <p className="live-state" role="status" data-testid="live-state">
      {connected ? '● live' : '○ connecting…'}
      {connected && catchUps > 0 && <span className="muted"> · reconnected and caught up</span>}
    </p>
  );
}

/** One deployment, live: status, phases, controls, verdicts, chart, targets and events. */
export function LiveDeployment({ id }: { id: string }) {
  const live = useLiveDeployment(id);
  const d = live.deployment;
  if (d === undefined) {
    if (live.error) return <ErrorBox error={live.error} title="Could not read the deployment" />;
    return <Loading what="the deployment" />;
  }
  if (d === null) {
    return (
      <div role="alert" className="error-box">
        <strong>No deployment {id}</strong>
        <p>
          It does not exist or is out of your scope. <Link href="/">Back to the deployments</Link>
        </p>
      </div>
    );
  }
  const why = d.rollbackReason ?? d.failureReason;
  return (
    <article aria-labelledby="live-title">
      <p>
        <Link href="/">← Deployments</Link>
      </p>
      <div className="dp-page-head">
        <h1 id="live-title">
          {d.profileName} <span className="muted">v{d.previousVersion ?? '—'} →</span> v{d.version}
        </h1>
        <span data-testid="deployment-status">
          <StatusBadge status={d.status} />
        </span>
        <LiveState connected={live.connected} catchUps={live.catchUps} ended={FINISHED.includes(d.status)} />
      </div>
      <p className="muted dp-meta">
        {d.strategy.replace('_', ' ')} · started by {d.startedBy} <Time at={d.createdAt} />
        {d.finishedAt && (
          <>
            {' '}
            · ended <Time at={d.finishedAt} />
          </>
        )}{' '}
        · <code title={d.id}>{d.id}</code>
      </p>
      {why && (
        <div className={`dp-why status-${d.status}`} data-testid="outcome-reason">
          <strong>{d.rollbackReason ? 'Rollback reason' : 'Failure'}:</strong> {why}
        </div>
      )}
      {live.error && <ErrorBox error={live.error} title="Could not refresh (showing the last state read)" />}
      {live.streamError && <ErrorBox error={live.streamError} title="Live updates refused" />}
      <Controls id={d.id} status={d.status} onDone={live.reload} />
      <div className="live-grid">
        <div className="live-main">
          <PhaseTrack d={d} />
          <HealthPanel checks={d.healthChecks} />
        </div>
        <div className="live-side">
          <HealthChart checks={d.healthChecks} />
          <TargetsTable targets={d.targets} />
          <EventLog events={d.events} />
        </div>
      </div>
    </article>
  );
}
