import { useState } from 'react';
import { Link } from 'wouter';
import { useQuery } from '../../api/use-query';
import { useCan } from '../../auth/viewer';
import { StatusBadge, Time } from '../../components/badges';
import { ErrorBox, Loading } from '../../components/error-box';
import { SCHEMA_STATUSES } from '../../api/enums';
import { ChoiceField, spaced } from '../../components/choice-field';
import { type ConfigSchema, schemaLabel, SCHEMAS_QUERY } from './api';
import { Compatibility } from './compatibility';
import { SchemaActions } from './decision';

/** /schemas: the approval queue (each pending version with its compatibility report) and every schema. */
export function SchemaListPage() {
  const can = useCan();
  const { data, error, loading, reload } = useQuery<{ schemas: ConfigSchema[] }>(SCHEMAS_QUERY);
  const schemas = data?.schemas ?? [];
  const pending = schemas.filter((s) => s.status === 'PENDING_APPROVAL');
  return (
    <>
      <div className="sch-head">
        <h1>Schemas</h1>
        <div className="actions">
          {can('schema:register') && (
            <Link href="/new" className="button">
              Register a schema
            </Link>
          )}
          <button type="button" className="secondary" onClick={reload} disabled={loading}>
            {loading && data ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      {error && <ErrorBox error={error} title="Could not load schemas" />}
      {loading && !data && <Loading what="schemas" />}
      {data && (
        <>
          <section aria-labelledby="queue-title">
            <h2 id="queue-title">Approval queue ({pending.length})</h2>
            {pending.length === 0 && <p className="muted">No schema is waiting for approval.</p>}
            {pending.map((s) => (
              <QueueItem key={s.id} schema={s} onChanged={reload} />
            ))}
          </section>
          <AllSchemas schemas={schemas} />
        </>
      )}
    </>
  );
}

function QueueItem({ schema, onChanged }: { schema: ConfigSchema; onChanged(): void }) {
  const label = schemaLabel(schema);
  return (
    <article className="panel queue-item" aria-label={`Pending ${label}`}>
      <h3>
        <Link href={`/${schema.id}`}>{label}</Link> <StatusBadge status={schema.status} />
      </h3>
      <p className="hint">
        Submitted by {schema.submittedBy ?? '—'} <Time at={schema.submittedAt} />
        {schema.description ? ` · ${schema.description}` : ''}
      </p>
      <details>
        <summary>JSON Schema</summary>
        <pre className="schema-json">{JSON.stringify(schema.schema, null, 2)}</pre>
      </details>
      <Compatibility json={schema.compatibility} label={label} />
      <SchemaActions schema={schema} onChanged={onChanged} />
    </article>
  );
}

function AllSchemas({ schemas }: { schemas: ConfigSchema[] }) {
  const [status, setStatus] = useState('');
  const [name, setName] = useState('');
  const shown = schemas.filter((s) => (!status || s.status === status) && s.name.includes(name.trim()));
  return (
    <section aria-labelledby="all-title">
      <h2 id="all-title">All schemas</h2>
      <div className="form-row">
        <ChoiceField id="schema-status" label="Status" value={status} choices={SCHEMA_STATUSES} onChange={setStatus} any="Any" format={spaced} />
        <div>
          <label htmlFor="schema-name">Name contains</label>
          <input id="schema-name" value={name} onChange={(e) => setName(e.target.value)} />
        </div>
      </div>
      {shown.length === 0 ? (
        <p className="muted">{schemas.length === 0 ? 'No schema registered yet.' : 'No schema matches.'}</p>
      ) : (
        <div className="table-wrap">
          <table aria-label="Schemas">
            <thead>
              <tr>
                <th scope="col">Schema</th>
                <th scope="col">Status</th>
                <th scope="col">Description</th>
                <th scope="col">Created by</th>
                <th scope="col">Created</th>
                <th scope="col">Decision</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={`/${s.id}`}>{schemaLabel(s)}</Link>
                  </td>
                  <td>
                    <StatusBadge status={s.status} />
                  </td>
                  <td>{s.description ?? <span className="muted">—</span>}</td>
                  <td>{s.createdBy}</td>
                  <td>
                    <Time at={s.createdAt} />
                  </td>
                  <td>{decisionText(s)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function decisionText(s: ConfigSchema) {
  const who = s.approvedBy ?? s.rejectedBy;
  if (!who) return <span className="muted">—</span>;
  return s.decisionComment ? `${who}: ${s.decisionComment}` : who;
}
