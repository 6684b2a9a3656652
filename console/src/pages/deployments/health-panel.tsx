import { StatusBadge, Time } from '../../components/badges';
import { type HealthReport, inUnit, type MetricVerdict, shift } from './queries';

function pValue(p: number | null): string {
  if (p === null) return '—';
  return p < 0.001 ? '< 0.001' : String(Math.round(p * 1000) / 1000);
}

function MetricRow({ m }: { m: MetricVerdict }) {
  return (
    <tr>
      <th scope="row">
        {m.name}
        {m.critical && <span className="muted"> (critical)</span>}
        <div className="hint">{m.check === 'MANN_WHITNEY' ? 'rank test' : 'fixed limit'}</div>
      </th>
      <td>
        <StatusBadge status={m.verdict} />
      </td>
      <td>
        {inUnit(m.canaryMedian, m.unit)} <span className="muted">n={m.canaryCount}</span>
      </td>
      <td>
        {inUnit(m.controlMedian, m.unit)} <span className="muted">n={m.controlCount}</span>
        <div className="hint">{m.reference}</div>
      </td>
      <td>{shift(m.effect, m.unit)}</td>
      <td>{pValue(m.pValue)}</td>
      <td className="metric-reason">{m.reason}</td>
    </tr>
  );
}

/** One health verdict: its reasons, its evidence, and each metric's canary against control. */
function Verdict({ h }: { h: HealthReport }) {
  return (
    <>
      <p className="verdict-line">
        <StatusBadge status={h.verdict} /> <Time at={h.checkedAt} />
        {h.score !== null && <span className="muted"> · score {Math.round(h.score * 100) / 100}</span>}
        <span className="muted">
          {' '}
          · {h.evidence.reporting} of {h.evidence.updated} updated instances reporting (needs {h.evidence.required})
        </span>
      </p>
      {h.reasons.length > 0 && (
        <ul className="dp-reasons" aria-label="Reasons">
          {h.reasons.map((r, i) => (
            <li key={i}>{r}</li>
          ))}
        </ul>
      )}
      {h.outliers.length > 0 && <p className="hint">Outliers marked DEGRADED: {h.outliers.join(', ')}</p>}
      {h.metrics.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Metrics of the latest verdict" className="metrics-table">
            <thead>
              <tr>
                <th>Metric</th>
                <th>Verdict</th>
                <th>Canary median</th>
                <th>Control median</th>
                <th>Shift</th>
                <th>p-value</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {h.metrics.map((m, i) => (
                <MetricRow key={`${m.name}-${m.check}-${i}`} m={m} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** The latest verdict in full, and the earlier ones with their reasons. */
export function HealthPanel({ checks }: { checks: HealthReport[] }) {
  const latest = checks.at(-1);
  const earlier = checks.slice(0, -1).reverse();
  return (
    <section className="panel" aria-labelledby="health-title" data-testid="health" data-count={checks.length}>
      <h2 id="health-title">Health verdicts</h2>
      {!latest && <p className="muted">No health check yet: the first comes after a phase's acks and its bake.</p>}
      {latest && <Verdict h={latest} />}
      {earlier.length > 0 && (
        <details>
          <summary>
            {earlier.length} earlier verdict{earlier.length === 1 ? '' : 's'}
          </summary>
          <ol className="verdict-history">
            {earlier.map((h) => (
              <li key={h.checkedAt}>
                <StatusBadge status={h.verdict} /> <Time at={h.checkedAt} />
                {h.reasons.length > 0 && <span> — {h.reasons.join('; ')}</span>}
              </li>
            ))}
          </ol>
        </details>
      )}
    </section>
  );
}
