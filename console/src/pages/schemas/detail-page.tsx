import { Link } from 'wouter';
import { useQuery } from '../../api/use-query';
import { useCan } from '../../auth/viewer';
import { StatusBadge, Time } from '../../components/badges';
import { ErrorBox, Loading } from '../../components/error-box';
import { type ConfigSchema, SCHEMA_QUERY, schemaLabel } from './api';
import { Compatibility } from './compatibility';
import { SchemaActions } from './decision';

/** /schemas/:id: one version, its approval state, its report, and what the viewer may do with it. */
export function SchemaDetailPage({ id }: { id: string }) {
  const can = useCan();
  const { data, error, loading, reload } = useQuery<{ schema: ConfigSchema | null }>(SCHEMA_QUERY, { id });
  const crumbs = (
    <p className="sch-crumbs">
      <Link href="/">Schemas</Link> / {data?.schema ? schemaLabel(data.schema) : id}
    </p>
  );
  if (error) {
    return (
      <>
        {crumbs}
        <ErrorBox error={error} title="Could not load the schema" />
        <button type="button" className="secondary" onClick={reload}>
          Try again
        </button>
      </>
    );
  }
  if (!data) return <Loading what="the schema" />;
  const s = data.schema;
  if (!s) {
    return (
      <>
        {crumbs}
        <p role="alert">No schema has the id {id}.</p>
      </>
    );
  }
  const label = schemaLabel(s);
  return (
    <>
      {crumbs}
      <div className="sch-head">
        <h1>
          {label} <StatusBadge status={s.status} />
        </h1>
        <div className="actions">
          {can('schema:register') && (
            <Link href={`/new?from=${encodeURIComponent(s.id)}`} className="button secondary">
              Register next version
            </Link>
          )}
          <button type="button" className="secondary" onClick={reload} disabled={loading}>
            Refresh
          </button>
        </div>
      </div>
      {s.description && <p>{s.description}</p>}
      <dl className="sch-facts">
        <dt>Created</dt>
        <dd>
          {s.createdBy}, <Time at={s.createdAt} />
        </dd>
        <dt>Submitted</dt>
        <dd>{s.submittedBy ? <>{s.submittedBy}, <Time at={s.submittedAt} /></> : <span className="muted">not yet</span>}</dd>
        <dt>Decision</dt>
        <dd data-testid="decision">{decision(s)}</dd>
      </dl>
      <section className="panel" aria-label="Actions">
        <SchemaActions schema={s} onChanged={reload} />
        {(s.status === 'APPROVED' || s.status === 'REJECTED') && <p className="muted">Decided: nothing more to do with this version.</p>}
      </section>
      <section className="panel">
        <Compatibility json={s.compatibility} label={label} />
      </section>
      <h2>JSON Schema</h2>
      <pre className="schema-json panel">{JSON.stringify(s.schema, null, 2)}</pre>
    </>
  );
}

function decision(s: ConfigSchema) {
  if (s.status === 'APPROVED' || s.status === 'REJECTED') {
    const who = s.status === 'APPROVED' ? s.approvedBy : s.rejectedBy;
    return (
      <>
        {s.status === 'APPROVED' ? 'Approved' : 'Rejected'} by {who ?? '—'}, <Time at={s.decidedAt} />
        {s.decisionComment && (
          <>
            {' '}
            — <q>{s.decisionComment}</q>
          </>
        )}
      </>
    );
  }
  return <span className="muted">{s.status === 'PENDING_APPROVAL' ? 'waiting for an ADMIN' : 'not submitted'}</span>;
}
