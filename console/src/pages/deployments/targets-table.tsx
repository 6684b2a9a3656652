import { StatusBadge } from '../../components/badges';
import type { Target } from './queries';

/** Each target instance: its phase, its state (as acks arrive), its reload time and error. */
export function TargetsTable({ targets }: { targets: Target[] }) {
  const sorted = [...targets].sort((a, b) => a.phase - b.phase || a.instanceId.localeCompare(b.instanceId));
  const counts = new Map<string, number>();
  for (const t of targets) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  return (
    <section className="panel" aria-labelledby="targets-title">
      <h2 id="targets-title">
        Targets <span className="muted">({targets.length})</span>
      </h2>
      <p className="target-counts" data-testid="target-counts" aria-live="polite">
        {[...counts.entries()].map(([state, n]) => (
          <span key={state}>
            <StatusBadge status={state} /> {n}{' '}
          </span>
        ))}
      </p>
      <div className="table-wrap targets-wrap">
        <table aria-label="Targets">
          <thead>
            <tr>
              <th>Instance</th>
              <th>Phase</th>
              <th>State</th>
              <th>Reload</th>
              <th>Instance status</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((t) => (
              <tr key={t.instanceId} data-testid="target-row" data-instance={t.instanceId} data-state={t.state}>
                <td>
                  <code title={t.instanceId}>{t.instanceId.slice(0, 8)}</code>
                </td>
                <td>{t.phase}</td>
                <td>
                  <StatusBadge status={t.state} />
                  {t.error && <div className="hint target-error">{t.error}</div>}
                </td>
                <td>{t.reloadMs === null ? '—' : `${Math.round(t.reloadMs * 10) / 10} ms`}</td>
                <td>{t.instanceStatus ? <StatusBadge status={t.instanceStatus} /> : <span className="muted">gone</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
