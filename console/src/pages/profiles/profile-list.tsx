import { useCallback, useEffect, useState } from 'react';
import { Link, useLocation, useRouter, useSearch } from 'wouter';
import { useCan } from '../../auth/viewer';
import { Time } from '../../components/badges';
import { ErrorBox, Loading } from '../../components/error-box';
import { usePaged } from './paged';
import { SchemaLabel } from './profile-page';
import { ChoiceField } from '../../components/choice-field';
import { type Connection, ENVIRONMENTS, type ProfileRow, profileHref, PROFILES } from './queries';

const PAGE = 25;

function matches(p: ProfileRow, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (!needle) return true;
  return [p.name, p.service, p.description ?? ''].some((s) => s.toLowerCase().includes(needle));
}

/** The filters live in the address (?q=&service=&environment=), so a filtered list can be shared and survives a reload. */
function useFilters() {
  const params = new URLSearchParams(useSearch());
  const [location, navigate] = useLocation();
  const { base } = useRouter();
  const set = useCallback(
    (key: string, value: string) => {
      // The address as it is now (two quick changes both count), without the trailing slash of the section's root.
      const next = new URLSearchParams(window.location.search);
      if (value) next.set(key, value);
      else next.delete(key);
      const query = next.toString();
      const path = `${base}${location === '/' ? '' : location}` || '/';
      navigate(`~${path}${query ? `?${query}` : ''}`, { replace: true });
    },
    [base, location, navigate],
  );
  return { search: params.get('q') ?? '', service: params.get('service') ?? '', environment: params.get('environment') ?? '', set };
}

function Filters({ filters }: { filters: ReturnType<typeof useFilters> }) {
  // The service filter asks the server: wait for the typing to pause.
  const [service, setService] = useState(filters.service);
  const { set } = filters;
  useEffect(() => {
    const t = setTimeout(() => {
      if (service.trim() !== filters.service) set('service', service.trim());
    }, 300);
    return () => clearTimeout(t);
  }, [service, filters.service, set]);
  return (
    <form className="form-row filters" role="search" aria-label="Filter profiles" onSubmit={(e) => e.preventDefault()}>
      <div>
        <label htmlFor="profile-search">Search</label>
        <input id="profile-search" type="search" value={filters.search} onChange={(e) => set('q', e.target.value)} placeholder="name, service or description" />
      </div>
      <div>
        <label htmlFor="profile-service">Service</label>
        <input id="profile-service" value={service} onChange={(e) => setService(e.target.value)} placeholder="exact service name" />
      </div>
      <ChoiceField id="profile-environment" label="Environment" value={filters.environment} choices={ENVIRONMENTS} onChange={(v) => set('environment', v)} any="All environments" />
    </form>
  );
}

function Rows({ rows }: { rows: ProfileRow[] }) {
  return (
    <div className="table-wrap">
      <table aria-label="Profiles">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Service</th>
            <th scope="col">Environment</th>
            <th scope="col">Latest</th>
            <th scope="col">Active</th>
            <th scope="col">Schema</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => (
            <tr key={p.id}>
              <td>
                <Link href={profileHref(p.name)}>{p.name}</Link>
                {p.description && <div className="hint">{p.description}</div>}
              </td>
              <td>{p.service}</td>
              <td>
                <span className={`badge env-${p.environment}`}>{p.environment}</span>
              </td>
              <td>{p.latestVersion ? `v${p.latestVersion.version}` : <span className="muted">—</span>}</td>
              <td>{p.activeVersion ? `v${p.activeVersion.version}` : <span className="muted">—</span>}</td>
              <td>
                <SchemaLabel schema={p.schema} />
              </td>
              <td>
                <Time at={p.updatedAt} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Every profile, newest first: filtered by service and environment (server), searched in what is loaded. */
export function ProfileList() {
  const can = useCan();
  const filters = useFilters();
  const list = usePaged<{ profiles: Connection<ProfileRow> }, ProfileRow>(
    PROFILES,
    { service: filters.service || null, environment: filters.environment || null, first: PAGE },
    (d) => d.profiles,
  );
  const shown = list.items.filter((p) => matches(p, filters.search));
  return (
    <section>
      <div className="page-head">
        <h1>Profiles</h1>
        {can('profile:write') && (
          <Link href="/new" className="button">
            New profile
          </Link>
        )}
      </div>
      <Filters filters={filters} />
      {list.error && <ErrorBox error={list.error} title="Could not load the profiles" />}
      {list.loading && <Loading what="profiles" />}
      {!list.error && list.data && (
        <>
          {shown.length > 0 ? <Rows rows={shown} /> : <p className="muted empty">No profile matches{filters.search ? ` “${filters.search}”` : ''} among those loaded.</p>}
          <div className="hint more-row" aria-live="polite">
            Showing {shown.length} of {list.totalCount ?? 0} profiles{filters.search && list.hasMore ? ' (search covers the loaded ones: load more to search further)' : ''}.{' '}
            {list.hasMore && (
              <button type="button" className="secondary" onClick={list.loadMore}>
                Load more
              </button>
            )}
            {list.loadingMore && <Loading what="more profiles" />}
          </div>
        </>
      )}
    </section>
  );
}
