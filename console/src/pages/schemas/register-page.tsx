import { type FormEvent, useRef, useState } from 'react';
import { Link, useLocation, useSearchParams } from 'wouter';
import { GqlError } from '../../api/graphql';
import { useMutation, useQuery } from '../../api/use-query';
import { useCan } from '../../auth/viewer';
import { ErrorBox, Loading } from '../../components/error-box';
import { type ConfigSchema, REGISTER_SCHEMA, SCHEMA_QUERY, schemaLabel } from './api';

const EXAMPLE = `{
  "type": "object",
  "properties": {
    "timeoutMs": { "type": "integer", "minimum": 1 }
  },
  "required": ["timeoutMs"]
}`;

/** The text as JSON, or why it is not. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** /schemas/new (?from=<id> starts from that version: registering an existing name makes its next version). */
export function RegisterSchemaPage() {
  const [params] = useSearchParams();
  const from = params.get('from');
  const base = useQuery<{ schema: ConfigSchema | null }>(SCHEMA_QUERY, { id: from ?? '' }, { skip: !from });
  if (from && base.loading) return <Loading what="the schema to start from" />;
  if (from && base.error) return <ErrorBox error={base.error} title="Could not load the schema to start from" />;
  const start = base.data?.schema ?? null;
  return <RegisterForm key={start?.id ?? 'blank'} start={start} />;
}

function RegisterForm({ start }: { start: ConfigSchema | null }) {
  const can = useCan();
  const [, navigate] = useLocation();
  const [name, setName] = useState(start?.name ?? '');
  const [description, setDescription] = useState('');
  const [text, setText] = useState(start ? JSON.stringify(start.schema, null, 2) : EXAMPLE);
  const [localError, setLocalError] = useState<GqlError>();
  const textRef = useRef<HTMLTextAreaElement>(null);
  const register = useMutation<{ registerSchema: ConfigSchema }>(REGISTER_SCHEMA);
  const parsed = parseJson(text);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    register.clearError();
    if (!parsed.ok) {
      setLocalError(new GqlError('INVALID_JSON', `The schema is not JSON, so it was not sent: ${parsed.message}`));
      textRef.current?.focus();
      return;
    }
    setLocalError(undefined);
    const input = { name: name.trim(), schema: parsed.value, description: description.trim() || null };
    void register.run({ input }).then((d) => d && navigate(`/${d.registerSchema.id}`));
  };

  if (!can('schema:register')) {
    return (
      <>
        <h1>Register a schema</h1>
        <p role="alert">Your role may not register schemas (DEVELOPER or ADMIN).</p>
        <Link href="/">Back to schemas</Link>
      </>
    );
  }
  return (
    <>
      <p className="sch-crumbs">
        <Link href="/">Schemas</Link> / register
      </p>
      <h1>Register a schema</h1>
      {start && <p className="hint">Starting from {schemaLabel(start)}: registering the same name creates its next version, as a DRAFT.</p>}
      <form className="panel register-form" onSubmit={onSubmit} aria-label="Register a schema" noValidate>
        <label htmlFor="schema-name-input">Name</label>
        <input id="schema-name-input" value={name} onChange={(e) => setName(e.target.value)} required pattern="[a-z0-9-]+" aria-describedby="schema-name-hint" />
        <p id="schema-name-hint" className="hint">
          Lowercase letters, digits and hyphens. An existing name gets its next version.
        </p>
        <label htmlFor="schema-description">Description (optional)</label>
        <input id="schema-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        <label htmlFor="schema-text">JSON Schema (draft 2020-12 or draft-07)</label>
        <textarea
          id="schema-text"
          ref={textRef}
          className="mono schema-text"
          rows={16}
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={!parsed.ok}
          aria-describedby="schema-text-status"
        />
        <p id="schema-text-status" className={parsed.ok ? 'hint' : 'sch-field-error'} aria-live="polite">
          {parsed.ok ? 'Valid JSON. The server checks it is a JSON Schema when you register it.' : `Not valid JSON: ${parsed.message}`}
        </p>
        {localError && <ErrorBox error={localError} title="Not registered" />}
        {register.error && <ErrorBox error={register.error} title="Not registered" />}
        <div className="actions">
          <button type="submit" disabled={register.busy || name.trim() === ''}>
            {register.busy ? 'Registering…' : 'Register as draft'}
          </button>
          <Link href="/" className="button secondary">
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}
