import { type FormEvent, useMemo, useRef, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { useMutation, useQuery } from '../../api/use-query';
import { useCan, useViewer } from '../../auth/viewer';
import { ErrorBox, Loading } from '../../components/error-box';
import { type LocatedIssue, locate, toDiagnostics, useConfigCheck } from './config-check';
import { IssueList } from './issue-list';
import { JsonEditor, type JsonEditorHandle } from './json-editor';
import { PROFILE_FOR_PUBLISH, type ProfileForPublish, PUBLISH_VERSION, type SchemaRef, type ValidationIssue, profileHref } from './queries';

/** The publish page: loads the profile, then the editor seeded with its latest version. */
export function PublishPage({ name }: { name: string }) {
  const can = useCan();
  const viewer = useViewer();
  const q = useQuery<{ profile: ProfileForPublish | null }>(PROFILE_FOR_PUBLISH, { name });
  const back = <Link href={profileHref(name)}>← {name}</Link>;
  if (!can('version:publish')) {
    return (
      <section>
        {back}
        <h1>Publish a version</h1>
        <p role="alert">Your role ({viewer.role}) may not publish versions. Ask a DEVELOPER or an ADMIN.</p>
      </section>
    );
  }
  if (q.error) return <ErrorBox error={q.error} title="Could not load the profile" />;
  if (!q.data) return <Loading what="the profile" />;
  const profile = q.data.profile;
  if (!profile) return <p role="alert">No profile named “{name}”. {back}</p>;
  const initial = profile.latestVersion ? JSON.stringify(profile.latestVersion.data, null, 2) : '{\n  \n}';
  return (
    <section>
      {back}
      <h1>Publish a new version of {profile.name}</h1>
      <PublishForm profile={profile} initial={initial} />
    </section>
  );
}

function SchemaNote({ schema, environment }: { schema: SchemaRef | null; environment: string }) {
  if (schema) {
    return (
      <p className="hint" id="editor-hint">
        Checked as you type against the bound schema <strong>{schema.name}</strong> v{schema.schemaVersion} ({schema.status}); errors are underlined at their paths. Tab leaves the editor.
      </p>
    );
  }
  return (
    <p className="hint" id="editor-hint">
      No schema is bound: any JSON object is accepted{environment === 'PRODUCTION' ? ', but a PRODUCTION profile publishes only with an APPROVED schema bound' : ''}. Tab leaves the editor.
    </p>
  );
}

function serverIssues(error: { errors: readonly { extensions?: Record<string, unknown> }[] } | undefined): ValidationIssue[] {
  const list = error?.errors[0]?.extensions?.errors;
  if (!Array.isArray(list)) return [];
  return list.filter((i): i is ValidationIssue => typeof i === 'object' && i !== null && typeof (i as ValidationIssue).path === 'string');
}

function PublishForm({ profile, initial }: { profile: ProfileForPublish; initial: string }) {
  const [, navigate] = useLocation();
  const [text, setText] = useState(initial);
  const [description, setDescription] = useState('');
  const [submittedText, setSubmittedText] = useState<string | null>(null);
  const editor = useRef<JsonEditorHandle>(null);
  const check = useConfigCheck(text, profile.schema?.id ?? null);
  const publish = useMutation<{ publishVersion: { version: number } }>(PUBLISH_VERSION);

  // The server's own refusal (VALIDATION_FAILED) is shown at its paths too, until the text changes.
  const refused: LocatedIssue[] = useMemo(
    () => (submittedText === text ? locate(text, serverIssues(publish.error)) : []),
    [submittedText, text, publish.error],
  );
  const issues = check.issues.length > 0 ? check.issues : refused;
  const diagnostics = useMemo(() => toDiagnostics(issues), [issues]);
  const ready = (check.state === 'valid' || check.state === 'unchecked') && check.data !== null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!ready || !check.data) return;
    setSubmittedText(text);
    const done = await publish.run({ name: profile.name, input: { data: check.data, description: description.trim() || null } });
    if (done) navigate(`${profileHref(profile.name)}?published=${done.publishVersion.version}`);
  };

  const status = {
    checking: 'Checking…',
    malformed: 'Not a JSON object yet: fix it before publishing.',
    invalid: `${check.issues.length} schema error${check.issues.length === 1 ? '' : 's'}: fix ${check.issues.length === 1 ? 'it' : 'them'} before publishing.`,
    valid: profile.schema ? `Valid against ${profile.schema.name} v${profile.schema.schemaVersion}.` : 'Valid JSON object.',
    unchecked: 'The schema check failed; the server checks again when you publish.',
  }[check.state];

  return (
    <form onSubmit={(e) => void submit(e)} aria-label="Publish a version" className="publish-form">
      <SchemaNote schema={profile.schema} environment={profile.environment} />
      <p className="field-label" aria-hidden="true">
        Config (JSON)
      </p>
      <JsonEditor ref={editor} initial={initial} onChange={setText} diagnostics={diagnostics} label="Config (JSON)" describedBy="editor-hint check-status" />
      <p id="check-status" role="status" aria-live="polite" className={`check-status check-${check.state}`} data-testid="check-status">
        {status}
      </p>
      {check.error && <ErrorBox error={check.error} title="Schema check failed" />}
      <IssueList issues={issues} onSelect={(i) => i.range && editor.current?.select(i.range.from, i.range.to)} />
      <label htmlFor="version-description">Description</label>
      <input id="version-description" className="wide" value={description} onChange={(e) => setDescription(e.target.value)} placeholder="What changed and why" maxLength={1000} />
      {publish.error && <ErrorBox error={publish.error} title="Publishing refused" />}
      <div className="actions">
        <button type="submit" disabled={!ready || publish.busy} aria-describedby="check-status">
          {publish.busy ? 'Publishing…' : 'Publish version'}
        </button>
        <Link href={profileHref(profile.name)} className="button secondary">
          Cancel
        </Link>
      </div>
    </form>
  );
}
