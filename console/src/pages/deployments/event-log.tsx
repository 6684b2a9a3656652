import { StatusBadge, Time } from '../../components/badges';
import type { DeploymentEvent } from './queries';

/** The deployment's events, newest first, each verdict with its reasons. */
export function EventLog({ events }: { events: DeploymentEvent[] }) {
  const newest = [...events].reverse();
  return (
    <section className="panel" aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      {newest.length === 0 && <p className="muted">No events yet.</p>}
      <ol className="event-log" aria-label="Events, newest first">
        {newest.map((e, i) => (
          <li key={`${e.at}-${e.type}-${i}`} data-testid="event" data-type={e.type}>
            <div className="event-head">
              <span className="badge event-type">{e.type.replace(/_/g, ' ')}</span>
              {e.phase > 0 && <span className="muted">phase {e.phase}</span>}
              {e.health && <StatusBadge status={e.health.verdict} />}
              <span className="event-time">
                <Time at={e.at} />
              </span>
            </div>
            {e.message && <p className="event-message">{e.message}</p>}
            {e.health && e.health.reasons.length > 0 && (
              <ul className="dp-reasons">
                {e.health.reasons.map((r, k) => (
                  <li key={k}>{r}</li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
