import { Link, useSearchParams } from 'wouter';
import { useQuery } from '../../api/use-query';
import { useCan } from '../../auth/viewer';
import { Hash, StatusBadge, Time } from '../../components/badges';
import { ErrorBox, Loading } from '../../components/error-box';
import { PROFILE, type ProfileDetail, profileHref, type SchemaRef, type VersionSummary } from './queries';
import { VersionsTable } from './versions-table';

function VersionCard({ title, version, empty }: { title: string; version: VersionSummary | null; empty: string }) {
  return (
    <div className="panel version-card" aria-label={title} role="group">
      <h2>{title}</h2>
      {version ? (
        <>
          <p className="version-number">v{version.version}</p>
          <p>{version.description ?? <span className="muted">no description</span>}</p>
          <p className="hint">
            by {version.createdBy}, <Time at={version.createdAt} /> · <Hash value={version.hash} />
          </p>
        </>
      ) : (
        <p className="muted">{empty}</p>
      )}
    </div>
  );
}

export function SchemaLabel({ schema }: { schema: SchemaRef | null }) {
  if (!schema) return <span className="muted">none</span>;
  return (
    <span>
      {schema.name} v{schema.schemaVersion} <StatusBadge status={schema.status} />
    </span>
  );
}

/** One profile: what it is, its active and latest versions, and every version. */
export function ProfilePage({ name }: { name: string }) {
  const can = useCan();
  const [params] = useSearchParams();
  const q = useQuery<{ profile: ProfileDetail | null }>(PROFILE, { name, first: 1 });
  const published = params.get('published');
  if (q.error) return <ErrorBox error={q.error} title="Could not load the profile" />;
  if (!q.data) return <Loading what={`profile ${name}`} />;
  const p = q.data.profile;
  if (!p) {
    return (
      <section>
        <Link href="/">← Profiles</Link>
        <p role="alert">No profile named “{name}”.</p>
      </section>
    );
  }
  return (
    <section>
      <Link href="/">← Profiles</Link>
      <div className="page-head">
        <h1>{p.name}</h1>
        <div className="actions">
          {can('profile:write') && (
            <Link href={`${profileHref(p.name)}/edit`} className="button secondary">
              Edit profile
            </Link>
          )}
          {can('version:publish') && (
            <Link href={`${profileHref(p.name)}/publish`} className="button">
              Publish a new version
            </Link>
          )}
        </div>
      </div>
      {published && (
        <p className="notice" role="status">
          Published version {published}.
        </p>
      )}
      <dl className="facts">
        <dt>Service</dt>
        <dd>{p.service}</dd>
        <dt>Environment</dt>
        <dd>
          <span className={`badge env-${p.environment}`}>{p.environment}</span>
        </dd>
        <dt>Schema</dt>
        <dd>
          <SchemaLabel schema={p.schema} />
        </dd>
        <dt>Description</dt>
        <dd>{p.description ?? <span className="muted">—</span>}</dd>
        <dt>Updated</dt>
        <dd>
          <Time at={p.updatedAt} />
        </dd>
      </dl>
      <div className="version-cards">
        <VersionCard title="Active version" version={p.activeVersion} empty="No deployment has completed yet." />
        <VersionCard title="Latest version" version={p.latestVersion} empty="No version published yet." />
      </div>
      <h2>Versions ({p.versions.totalCount})</h2>
      <VersionsTable key={p.latestVersion?.id ?? 'none'} name={p.name} active={p.activeVersion?.version ?? null} latest={p.latestVersion?.version ?? null} />
    </section>
  );
}
