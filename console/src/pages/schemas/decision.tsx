import { type FormEvent, useId, useState } from 'react';
import { useMutation } from '../../api/use-query';
import { useCan } from '../../auth/viewer';
import { ErrorBox } from '../../components/error-box';
import { APPROVE_SCHEMA, type ConfigSchema, REJECT_SCHEMA, schemaLabel, SUBMIT_SCHEMA } from './api';

/** What the viewer may do with a schema in its current status: submit a DRAFT, decide a PENDING_APPROVAL one. */
export function SchemaActions({ schema, onChanged }: { schema: ConfigSchema; onChanged(s: ConfigSchema): void }) {
  const can = useCan();
  if (schema.status === 'DRAFT') {
    return can('schema:submit') ? <SubmitButton schema={schema} onChanged={onChanged} /> : <p className="hint">A DEVELOPER or ADMIN submits drafts for approval.</p>;
  }
  if (schema.status === 'PENDING_APPROVAL') {
    return can('schema:approve') ? <DecisionForm schema={schema} onChanged={onChanged} /> : <p className="hint">Waiting for an ADMIN to approve or reject it.</p>;
  }
  return null;
}

function SubmitButton({ schema, onChanged }: { schema: ConfigSchema; onChanged(s: ConfigSchema): void }) {
  const submit = useMutation<{ submitSchemaForApproval: ConfigSchema }>(SUBMIT_SCHEMA);
  return (
    <div>
      <div className="actions">
        <button
          type="button"
          disabled={submit.busy}
          onClick={() => void submit.run({ id: schema.id }).then((d) => d && onChanged(d.submitSchemaForApproval))}
        >
          {submit.busy ? 'Submitting…' : 'Submit for approval'}
        </button>
      </div>
      <p className="hint">Submitting computes the compatibility report an ADMIN reads before approving.</p>
      {submit.error && <ErrorBox error={submit.error} title="Not submitted" />}
    </div>
  );
}

/** Approve with an optional comment, or reject with a reason (required). */
function DecisionForm({ schema, onChanged }: { schema: ConfigSchema; onChanged(s: ConfigSchema): void }) {
  const id = useId();
  const [text, setText] = useState('');
  const [missingReason, setMissingReason] = useState(false);
  const approve = useMutation<{ approveSchema: ConfigSchema }>(APPROVE_SCHEMA);
  const reject = useMutation<{ rejectSchema: ConfigSchema }>(REJECT_SCHEMA);
  const busy = approve.busy || reject.busy;
  const onApprove = (e: FormEvent) => {
    e.preventDefault();
    reject.clearError();
    setMissingReason(false);
    const comment = text.trim() === '' ? null : text.trim();
    void approve.run({ id: schema.id, comment }).then((d) => d && onChanged(d.approveSchema));
  };
  const onReject = () => {
    approve.clearError();
    if (text.trim() === '') {
      setMissingReason(true);
      return;
    }
    setMissingReason(false);
    void reject.run({ id: schema.id, reason: text.trim() }).then((d) => d && onChanged(d.rejectSchema));
  };
  return (
    <form className="sch-decision" onSubmit={onApprove} aria-label={`Decide on ${schemaLabel(schema)}`}>
      <label htmlFor={`${id}-text`}>Comment (approval) or reason (rejection)</label>
      <textarea
        id={`${id}-text`}
        rows={2}
        value={text}
        maxLength={2000}
        onChange={(e) => setText(e.target.value)}
        aria-invalid={missingReason}
        aria-describedby={missingReason ? `${id}-missing` : undefined}
      />
      {missingReason && (
        <p id={`${id}-missing`} className="sch-field-error" role="alert">
          A rejection needs a reason.
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={busy}>
          {approve.busy ? 'Approving…' : 'Approve'}
        </button>
        <button type="button" className="danger" disabled={busy} onClick={onReject}>
          {reject.busy ? 'Rejecting…' : 'Reject'}
        </button>
      </div>
      {approve.error && <ErrorBox error={approve.error} title="Not approved" />}
      {reject.error && <ErrorBox error={reject.error} title="Not rejected" />}
    </form>
  );
}
