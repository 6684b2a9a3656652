import { type FormEvent, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { Hash, Time } from '../../components/badges';
import { ErrorBox, Loading } from '../../components/error-box';
import { usePaged } from './paged';
import { type Connection, diffHref, type VersionSummary } from './queries';

const VERSIONS = `query Versions($name: String!, $first: Int, $after: String) {
  profile(name: $name) { id versions(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id version hash description createdBy createdAt } } } }
}`;

type VersionsData = { profile: { versions: Connection<VersionSummary> } | null };

/** Two versions to compare; the choices are the versions loaded so far. */
function CompareForm({ name, versions }: { name: string; versions: VersionSummary[] }) {
  const [, navigate] = useLocation();
  const [from, setFrom] = useState(String(versions[1]?.version ?? versions[0]?.version ?? ''));
  const [to, setTo] = useState(String(versions[0]?.version ?? ''));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    navigate(diffHref(name, Number(from), Number(to)));
  };
  const options = versions.map((v) => (
    <option key={v.id} value={v.version}>
      v{v.version}
      {v.description ? ` — ${v.description.slice(0, 40)}` : ''}
    </option>
  ));
  return (
    <form className="form-row compare-form" onSubmit={submit} aria-label="Compare two versions">
      <div>
        <label htmlFor="diff-from">From</label>
        <select id="diff-from" value={from} onChange={(e) => setFrom(e.target.value)}>
          {options}
        </select>
      </div>
      <div>
        <label htmlFor="diff-to">To</label>
        <select id="diff-to" value={to} onChange={(e) => setTo(e.target.value)}>
          {options}
        </select>
      </div>
      <button type="submit" disabled={!from || !to || from === to}>
        Compare
      </button>
    </form>
  );
}

function PreviousDiff({ name, from, to }: { name: string; from: number | undefined; to: number }) {
  if (from === undefined) return null;
  return (
    <Link href={diffHref(name, from, to)} aria-label={`Diff v${from} to v${to}`}>
      diff vs v{from}
    </Link>
  );
}

/** A profile's versions, newest first: who, when, description, hash; any two compared. */
export function VersionsTable({ name, active, latest }: { name: string; active: number | null; latest: number | null }) {
  const v = usePaged<VersionsData, VersionSummary>(VERSIONS, { name, first: 20 }, (d) => d.profile?.versions);
  if (v.error) return <ErrorBox error={v.error} title="Could not load the versions" />;
  if (v.loading && v.items.length === 0) return <Loading what="versions" />;
  if (v.items.length === 0) return <p className="muted">No version published yet.</p>;
  return (
    <>
      {v.items.length > 1 && <CompareForm key={v.items[0]?.id} name={name} versions={v.items} />}
      <div className="table-wrap">
        <table aria-label="Versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Description</th>
              <th scope="col">Published by</th>
              <th scope="col">When</th>
              <th scope="col">Hash</th>
              <th scope="col">
                <span className="visually-hidden">Diff</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {v.items.map((ver, i) => (
              <tr key={ver.id}>
                <td>
                  <strong>v{ver.version}</strong> {ver.version === active && <span className="badge status-ACTIVE">active</span>}{' '}
                  {ver.version === latest && <span className="badge">latest</span>}
                </td>
                <td>{ver.description ?? <span className="muted">—</span>}</td>
                <td>{ver.createdBy}</td>
                <td>
                  <Time at={ver.createdAt} />
                </td>
                <td>
                  <Hash value={ver.hash} />
                </td>
                <td>
                  <PreviousDiff name={name} from={v.items[i + 1]?.version} to={ver.version} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="hint more-row">
        {v.items.length} of {v.totalCount ?? v.items.length} versions{' '}
        {v.hasMore && (
          <button type="button" className="secondary" onClick={v.loadMore}>
            Load more versions
          </button>
        )}
        {v.loadingMore && <Loading what="more versions" />}
      </div>
    </>
  );
}
