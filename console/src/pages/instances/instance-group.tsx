import { Fragment } from 'react';
import { StatusBadge, Time } from '../../components/badges';
import type { Group, Instance } from './api';

/** Fixed column widths, so the tables of every group line up. */
const COLUMN_WIDTHS = ['13%', '9%', '7%', '9%', '13%', '17%', '17%', '15%'];

/** One service in one environment: its instances, each with what it was assigned and what it applied. */
export function InstanceGroup({ group }: { group: Group }) {
  const title = `${group.service} · ${group.environment}`;
  const connected = group.instances.filter((i) => i.connected).length;
  const versions = new Map<string, Set<number>>();
  for (const i of group.instances) for (const a of i.assignedVersions) versions.set(a.profileName, (versions.get(a.profileName) ?? new Set()).add(a.version));
  return (
    <section className="panel inst-group" aria-label={title}>
      <h2>
        {group.service} <span className="badge">{group.environment}</span>{' '}
        <span className="hint">
          {group.instances.length} {group.instances.length === 1 ? 'instance' : 'instances'}, {connected} connected
        </span>
      </h2>
      <p className="hint">
        Assigned:{' '}
        {versions.size === 0
          ? 'nothing yet (no profile of this service and environment has been deployed)'
          : [...versions].map(([name, vs]) => `${name} v${[...vs].sort((a, b) => a - b).join(' and v')}`).join(', ')}
      </p>
      <div className="table-wrap">
        <table className="inst-table" aria-label={`Instances of ${title}`}>
          <colgroup>
            {COLUMN_WIDTHS.map((w, i) => (
              <col key={i} style={{ width: w }} />
            ))}
          </colgroup>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Status</th>
              <th scope="col">Color</th>
              <th scope="col">Connected</th>
              <th scope="col">Assigned</th>
              <th scope="col">Applied</th>
              <th scope="col">Last heartbeat</th>
              <th scope="col">Metrics</th>
            </tr>
          </thead>
          <tbody>
            {group.instances.map((i) => (
              <InstanceRow key={i.id} instance={i} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function InstanceRow({ instance: i }: { instance: Instance }) {
  const assigned = i.assignedVersions;
  return (
    <tr data-instance-id={i.id} data-host={i.host}>
      <th scope="row" className="inst-host">
        {i.host}
        <br />
        <code className="hash" title={i.id}>
          {i.id.slice(0, 8)}
        </code>
      </th>
      <td data-label="Status">
        <StatusBadge status={i.status} />
      </td>
      <td data-label="Color">{i.color ? <span className={`badge color-${i.color}`}>{i.color}</span> : <span className="muted">—</span>}</td>
      <td data-label="Connected">
        <span className={`badge ${i.connected ? 'conn-yes' : 'conn-no'}`}>{i.connected ? 'yes' : 'no'}</span>
      </td>
      <td data-label="Assigned">
        {assigned.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <ul className="inst-list">
            {assigned.map((a) => (
              <li key={a.profileName}>
                {a.profileName} v{a.version}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td data-label="Applied">
        <Applied instance={i} assigned={assigned} />
      </td>
      <td data-label="Last heartbeat">
        <Time at={i.lastHeartbeatAt} />
        {i.lastHeartbeatAt && <div className="hint">{ago(i.lastHeartbeatAt)}</div>}
      </td>
      <td data-label="Metrics">
        <Metrics metrics={i.metrics} />
      </td>
    </tr>
  );
}

function Applied({ instance, assigned }: { instance: Instance; assigned: Instance['assignedVersions'] }) {
  const missing = assigned.filter((p) => !instance.appliedVersions.some((a) => a.profileName === p.profileName));
  if (instance.appliedVersions.length === 0 && missing.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="inst-list">
      {instance.appliedVersions.map((a) => {
        const want = assigned.find((p) => p.profileName === a.profileName)?.version;
        return (
          <li key={a.profileName}>
            {a.profileName} v{a.version}
            {want !== undefined && want !== a.version && <span className="badge status-PENDING"> assigned v{want}</span>}
            <div className="hint">
              <Time at={a.appliedAt} />
              {a.reloadMs !== null && ` · reload ${a.reloadMs} ms`}
            </div>
          </li>
        );
      })}
      {missing.map((p) => (
        <li key={p.profileName} className="muted">
          {p.profileName}: not applied
        </li>
      ))}
    </ul>
  );
}

function Metrics({ metrics: m }: { metrics: Instance['metrics'] }) {
  if (!m) return <span className="muted">none reported</span>;
  const custom = m.custom && typeof m.custom === 'object' && !Array.isArray(m.custom) ? Object.entries(m.custom) : [];
  return (
    <dl className="inst-metrics">
      <dt>errors</dt>
      <dd>{m.errorRate === null ? '—' : `${(m.errorRate * 100).toFixed(2)} %`}</dd>
      <dt>p99</dt>
      <dd>{m.latencyP99Ms === null ? '—' : `${m.latencyP99Ms} ms`}</dd>
      <dt>requests</dt>
      <dd>{m.requestCount ?? '—'}</dd>
      {custom.map(([k, v]) => (
        <Fragment key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </Fragment>
      ))}
    </dl>
  );
}

/** "12 s ago", "3 min ago", "2 h ago". */
function ago(at: string): string {
  const s = Math.max(0, Math.round((Date.now() - new Date(at).getTime()) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
