import { useEffect, useState } from 'react';
import { useLocation, useRouter, useSearchParams } from 'wouter';
import { useQuery } from '../../api/use-query';
import { ErrorBox, Loading } from '../../components/error-box';
import { groupInstances, INSTANCES_QUERY, type InstancesData, POLL_MS } from './api';
import { Filters, type InstanceFilter } from './filters';
import { InstanceGroup } from './instance-group';

/** /instances: every instance per service and environment, refreshed every few seconds. */
export function InstanceListPage() {
  const [params] = useSearchParams();
  const [, navigate] = useLocation();
  const { base } = useRouter();
  const filter: InstanceFilter = {
    service: params.get('service') ?? '',
    environment: params.get('environment') ?? '',
    status: params.get('status') ?? '',
    connected: params.get('connected') ?? '',
  };
  const setFilter = (next: InstanceFilter) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v) p.set(k, v);
    const query = p.toString();
    // To the section's own address (/instances?…, not /instances/?…), replacing the entry: filters are no history.
    navigate(`~${base}${query ? `?${query}` : ''}`, { replace: true });
  };
  const variables = { service: filter.service || null, environment: filter.environment || null, status: filter.status || null };
  const { data, error, loading, reload } = useQuery<InstancesData>(INSTANCES_QUERY, variables);
  const [auto, setAuto] = useState(true);
  const [updatedAt, setUpdatedAt] = useState<Date>();

  useEffect(() => {
    if (data) setUpdatedAt(new Date());
  }, [data]);
  useEffect(() => {
    if (!auto) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [auto, reload]);

  const shown = data && {
    ...data,
    instances: data.instances.filter((i) => filter.connected === '' || i.connected === (filter.connected === 'yes')),
  };
  const groups = shown ? groupInstances(shown) : [];
  const count = shown?.instances.length ?? 0;
  const connected = shown?.instances.filter((i) => i.connected).length ?? 0;

  return (
    <>
      <div className="inst-head">
        <h1>Instances</h1>
        <div className="inst-refresh">
          <p className="hint">
            {auto ? `Refreshes every ${POLL_MS / 1000} s (polling: instances have no live feed)` : 'Automatic refresh is off'}
            {updatedAt && <> · updated {updatedAt.toLocaleTimeString()}</>}
            {loading && data && ' · refreshing…'}
          </p>
          <label className="inline">
            <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} /> Auto-refresh
          </label>
          <button type="button" className="secondary" onClick={reload}>
            Refresh now
          </button>
        </div>
      </div>
      <Filters value={filter} onChange={setFilter} services={[...new Set(data?.everything.map((i) => i.service) ?? [])].sort()} />
      {error && <ErrorBox error={error} title={data ? 'The last refresh failed (showing the previous answer)' : 'Could not load instances'} />}
      {loading && !data && !error && <Loading what="instances" />}
      {shown && (
        <>
          <p className="inst-summary" data-testid="instance-summary">
            {count} {count === 1 ? 'instance' : 'instances'} · {connected} connected · {count - connected} not connected
            {groups.length > 0 && ` · ${groups.length} service/environment ${groups.length === 1 ? 'group' : 'groups'}`}
          </p>
          <p className="hint">
            Assigned is the version HotSwap sends each instance per profile: a running deployment&apos;s push, its color&apos;s version (blue-green), else
            the active version.
          </p>
          {groups.length === 0 && <p className="muted">{data?.everything.length ? 'No instance matches these filters.' : 'No instance has registered yet.'}</p>}
          {groups.map((g) => (
            <InstanceGroup key={g.key} group={g} />
          ))}
        </>
      )}
    </>
  );
}
