import { type FormEvent, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { useMutation, useQuery } from '../../api/use-query';
import { useCan, useViewer } from '../../auth/viewer';
import { ErrorBox, Loading } from '../../components/error-box';
import { CREATE_PROFILE, ENVIRONMENTS, Environment, PROFILE, type ProfileDetail, profileHref, type SchemaRef, SCHEMAS, UPDATE_PROFILE } from './queries';

/** The schemas a profile in `environment` may be bound to: APPROVED only for PRODUCTION, never a REJECTED one. */
function SchemaSelect({ environment, value, onChange }: { environment: Environment; value: string; onChange(id: string): void }) {
  const q = useQuery<{ schemas: SchemaRef[] }>(SCHEMAS);
  const usable = (q.data?.schemas ?? []).filter((s) => s.status !== 'REJECTED' && (environment !== 'PRODUCTION' || s.status === 'APPROVED'));
  return (
    <div>
      <label htmlFor="profile-schema">Schema</label>
      <select id="profile-schema" value={value} onChange={(e) => onChange(e.target.value)} aria-describedby="schema-hint" disabled={q.loading && !q.data}>
        <option value="">No schema</option>
        {usable.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name} v{s.schemaVersion} ({s.status})
          </option>
        ))}
      </select>
      <p className="hint" id="schema-hint">
        Every version is validated against it. {environment === 'PRODUCTION' ? 'PRODUCTION takes only an APPROVED schema, and publishes only with one.' : ''}
      </p>
      {q.error && <ErrorBox error={q.error} title="Could not list the schemas" />}
    </div>
  );
}

function NotAllowed({ what }: { what: string }) {
  const viewer = useViewer();
  return (
    <p role="alert">
      Your role ({viewer.role}) may not {what}. <Link href="/">Back to the profiles</Link>
    </p>
  );
}

/** A new profile: name, service, environment, description, schema. */
export function CreateProfile() {
  const can = useCan();
  const [, navigate] = useLocation();
  const [name, setName] = useState('');
  const [service, setService] = useState('');
  const [environment, setEnvironment] = useState<Environment>(Environment.DEVELOPMENT);
  const [description, setDescription] = useState('');
  const [schemaId, setSchemaId] = useState('');
  const create = useMutation<{ createProfile: { name: string } }>(CREATE_PROFILE);
  if (!can('profile:write')) return <NotAllowed what="create profiles" />;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const input = { name: name.trim(), service: service.trim(), environment, description: description.trim() || null, schemaId: schemaId || null };
    const done = await create.run({ input });
    if (done) navigate(profileHref(done.createProfile.name));
  };
  return (
    <section>
      <Link href="/">← Profiles</Link>
      <h1>New profile</h1>
      <form className="panel profile-form" onSubmit={(e) => void submit(e)} aria-label="New profile">
        <label htmlFor="profile-name">Name</label>
        <input id="profile-name" value={name} onChange={(e) => setName(e.target.value)} required aria-describedby="name-hint" autoFocus />
        <p className="hint" id="name-hint">
          Lowercase letters, digits and hyphens, 1–63 characters; it cannot change later.
        </p>
        <label htmlFor="profile-service-name">Service</label>
        <input id="profile-service-name" value={service} onChange={(e) => setService(e.target.value)} required />
        <label htmlFor="profile-env">Environment</label>
        <select id="profile-env" value={environment} onChange={(e) => setEnvironment(e.target.value as Environment)}>
          {ENVIRONMENTS.map((env) => (
            <option key={env}>{env}</option>
          ))}
        </select>
        <label htmlFor="profile-description">Description</label>
        <input id="profile-description" className="wide" value={description} onChange={(e) => setDescription(e.target.value)} />
        <SchemaSelect environment={environment} value={schemaId} onChange={setSchemaId} />
        {create.error && <ErrorBox error={create.error} title="Creating the profile was refused" />}
        <div className="actions">
          <button type="submit" disabled={create.busy}>
            {create.busy ? 'Creating…' : 'Create profile'}
          </button>
        </div>
      </form>
    </section>
  );
}

function EditForm({ profile }: { profile: ProfileDetail }) {
  const [, navigate] = useLocation();
  const [description, setDescription] = useState(profile.description ?? '');
  const [schemaId, setSchemaId] = useState(profile.schema?.id ?? '');
  const update = useMutation<{ updateProfile: { name: string } }>(UPDATE_PROFILE);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const done = await update.run({ name: profile.name, input: { description: description.trim() || null, schemaId: schemaId || null } });
    if (done) navigate(profileHref(done.updateProfile.name));
  };
  return (
    <form className="panel profile-form" onSubmit={(e) => void submit(e)} aria-label="Edit profile">
      <p className="hint">
        Service <strong>{profile.service}</strong>, environment <strong>{profile.environment}</strong>: these and the name do not change.
      </p>
      <label htmlFor="profile-description">Description</label>
      <input id="profile-description" className="wide" value={description} onChange={(e) => setDescription(e.target.value)} />
      <SchemaSelect environment={profile.environment} value={schemaId} onChange={setSchemaId} />
      {update.error && <ErrorBox error={update.error} title="Saving was refused" />}
      <div className="actions">
        <button type="submit" disabled={update.busy}>
          {update.busy ? 'Saving…' : 'Save'}
        </button>
        <Link href={profileHref(profile.name)} className="button secondary">
          Cancel
        </Link>
      </div>
    </form>
  );
}

/** Changes a profile's description and schema binding. */
export function EditProfile({ name }: { name: string }) {
  const can = useCan();
  const q = useQuery<{ profile: ProfileDetail | null }>(PROFILE, { name, first: 1 }, { skip: !can('profile:write') });
  if (!can('profile:write')) return <NotAllowed what="edit profiles" />;
  if (q.error) return <ErrorBox error={q.error} title="Could not load the profile" />;
  if (!q.data) return <Loading what="the profile" />;
  if (!q.data.profile) return <p role="alert">No profile named “{name}”.</p>;
  return (
    <section>
      <Link href={profileHref(name)}>← {name}</Link>
      <h1>Edit {name}</h1>
      <EditForm profile={q.data.profile} />
    </section>
  );
}
