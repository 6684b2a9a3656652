import { useEffect, useState } from 'react';
import { Link, useSearch } from 'wouter';
import { useQuery } from '../../api/use-query';
import { useCan } from '../../auth/viewer';
import { StatusBadge, Time } from '../../components/badges';
import { ErrorBox, Loading } from '../../components/error-box';
import { DEPLOYMENT_STATUSES } from '../../api/enums';
import { ChoiceField, spaced } from '../../components/choice-field';
import { DEPLOYMENTS, type DeploymentsPage, type ListRow, percent } from './queries';

const PAGE = 25;

/** What became of it: the latest verdict, and why it was rolled back or failed. */
function Outcome({ row }: { row: ListRow }) {
  const why = row.rollbackReason ?? row.failureReason;
  return (
    <>
      {row.health ? <StatusBadge status={row.health.verdict} /> : <span className="muted">no verdict</span>}
      {why && (
        <span className="dp-outcome-reason" title={why}>
          {' '}
          {why}
        </span>
      )}
    </>
  );
}

/** Deployments, newest first, filtered by status and profile, a page at a time. */
export function DeploymentsList() {
  const can = useCan();
  const [status, setStatus] = useState('');
  // `/deployments?profile=name` opens the list filtered to that profile (links from elsewhere in the console).
  const wanted = new URLSearchParams(useSearch()).get('profile') ?? '';
  const [profile, setProfile] = useState(wanted);
  const [applied, setApplied] = useState(wanted);
  const [after, setAfter] = useState<string | null>(null);
  const [rows, setRows] = useState<ListRow[]>([]);
  const vars = { first: PAGE, after, status: status || null, profileName: applied || null };
  const q = useQuery<DeploymentsPage>(DEPLOYMENTS, vars);

  useEffect(() => {
    if (!q.data) return;
    const fresh = q.data.deployments.edges.map((e) => e.node);
    setRows((old) => (after ? [...old.filter((r) => !fresh.some((f) => f.id === r.id)), ...fresh] : fresh));
  }, [q.data, after]);

  const filter = (next: () => void) => {
    next();
    setAfter(null);
  };
  const page = q.data?.deployments;
  return (
    <section aria-labelledby="deployments-title">
      <div className="dp-page-head">
        <h1 id="deployments-title">Deployments</h1>
        {can('deployment:start') && (
          <Link href="/new" className="button">
            Start a deployment
          </Link>
        )}
      </div>
      <form
        className="form-row panel"
        aria-label="Filter deployments"
        onSubmit={(e) => {
          e.preventDefault();
          filter(() => setApplied(profile.trim()));
        }}
      >
        <ChoiceField id="dl-status" label="Status" value={status} choices={DEPLOYMENT_STATUSES} onChange={(v) => filter(() => setStatus(v))} any="Any" format={spaced} />
        <div>
          <label htmlFor="dl-profile">Profile</label>
          <input id="dl-profile" value={profile} onChange={(e) => setProfile(e.target.value)} placeholder="any profile" />
        </div>
        <button type="submit" className="secondary">
          Filter
        </button>
        <button type="button" className="secondary" onClick={() => filter(q.reload)}>
          Refresh
        </button>
      </form>
      {q.error && <ErrorBox error={q.error} title="Could not list deployments" />}
      {q.loading && rows.length === 0 && <Loading what="deployments" />}
      {page && rows.length === 0 && !q.loading && <p className="muted">No deployments match.</p>}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Deployments" aria-busy={q.loading}>
            <thead>
              <tr>
                <th>Deployment</th>
                <th>Profile</th>
                <th>Version</th>
                <th>Strategy</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Outcome</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link href={`/${r.id}`}>
                      <code>{r.id.slice(0, 8)}</code>
                    </Link>
                  </td>
                  <td className="dp-nowrap">{r.profileName}</td>
                  <td className="dp-nowrap">
                    {r.previousVersion ?? '—'} → <strong>{r.version}</strong>
                  </td>
                  <td>{r.strategy.replace('_', ' ')}</td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td className="dp-nowrap">
                    phase {r.phase}/{r.phaseCount} · {percent(r.progress)}
                  </td>
                  <td className="dp-outcome">
                    <Outcome row={r} />
                  </td>
                  <td>
                    <Time at={r.createdAt} /> <span className="muted">by {r.startedBy}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page && (
        <div className="actions">
          <span className="muted" role="status">
            {rows.length} of {page.totalCount}
          </span>
          {page.pageInfo.hasNextPage && (
            <button type="button" className="secondary" disabled={q.loading} onClick={() => setAfter(page.pageInfo.endCursor)}>
              {q.loading ? 'Loading…' : 'Load more'}
            </button>
          )}
        </div>
      )}
    </section>
  );
}
