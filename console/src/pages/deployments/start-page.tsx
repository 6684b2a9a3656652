import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { useMutation, useQuery } from '../../api/use-query';
import { useCan } from '../../auth/viewer';
import { ErrorBox, Loading } from '../../components/error-box';
import { PlanPreview } from './plan-preview';
import { type DeploymentPlan, PLAN, type ProfileChoice, PROFILES, START, STRATEGIES, type Strategy } from './queries';
import { HealthFields, type SetField, StrategyFields } from './start-fields';
import { DEFAULT_FORM, type StartForm, toInput } from './start-input';

/** `value`, once it has stopped changing for `ms`. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

/** Start a deployment: profile, version, strategy and its options, health policy, with the plan it would make. */
export function StartDeployment() {
  const can = useCan();
  const [, navigate] = useLocation();
  const wanted = new URLSearchParams(useSearch()).get('profile') ?? '';
  const profiles = useQuery<{ profiles: { edges: Array<{ node: ProfileChoice }> } }>(PROFILES);
  const choices = useMemo(() => profiles.data?.profiles.edges.map((e) => e.node) ?? [], [profiles.data]);
  const [form, setForm] = useState<StartForm>({ ...DEFAULT_FORM, profileName: wanted });
  const set: SetField = (key, value) => setForm((f) => ({ ...f, [key]: value }));
  const chosen = choices.find((p) => p.name === form.profileName);

  // A profile picked (or given in the address) proposes its latest version.
  const proposedFor = useRef<string | null>(null);
  useEffect(() => {
    const pick = choices.find((p) => p.name === form.profileName) ?? (form.profileName ? undefined : choices[0]);
    if (!pick || proposedFor.current === pick.name) return;
    proposedFor.current = pick.name;
    setForm((f) => ({ ...f, profileName: pick.name, version: String(pick.latestVersion?.version ?? '') }));
  }, [choices, form.profileName]);

  const { input, problems } = toInput(form);
  const key = useSettled(input ? JSON.stringify(input) : '', 350);
  const plan = useQuery<{ deploymentPlan: DeploymentPlan }>(PLAN, { input: key ? (JSON.parse(key) as unknown) : null }, { skip: !key });
  const start = useMutation<{ startDeployment: { id: string } }>(START);
  const allowed = chosen ? can('deployment:start', chosen.environment) : can('deployment:start');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!input || !allowed) return;
    const res = await start.run({ input });
    if (res) navigate(`/${res.startDeployment.id}`);
  };

  if (profiles.error) return <ErrorBox error={profiles.error} title="Could not list profiles" />;
  if (profiles.loading && !profiles.data) return <Loading what="profiles" />;
  return (
    <section aria-labelledby="start-title">
      <p>
        <Link href="/">← Deployments</Link>
      </p>
      <h1 id="start-title">Start a deployment</h1>
      {choices.length === 0 && <p className="muted">There is no profile to deploy yet: create one and publish a version first.</p>}
      <form className="start-grid" onSubmit={(e) => void submit(e)} aria-label="Start a deployment">
        <div>
          <fieldset className="panel">
            <legend>What</legend>
            <div className="form-row">
              <div className="dp-field">
                <label htmlFor="sd-profile">Profile</label>
                <select id="sd-profile" value={form.profileName} onChange={(e) => set('profileName', e.target.value)}>
                  {choices.map((p) => (
                    <option key={p.name} value={p.name}>
                      {p.name} ({p.service}, {p.environment})
                    </option>
                  ))}
                </select>
              </div>
              <div className="dp-field">
                <label htmlFor="sd-version">Version</label>
                <input id="sd-version" inputMode="numeric" value={form.version} onChange={(e) => set('version', e.target.value)} />
              </div>
              <div className="dp-field">
                <label htmlFor="sd-strategy">Strategy</label>
                <select id="sd-strategy" value={form.strategy} onChange={(e) => set('strategy', e.target.value as Strategy)}>
                  {STRATEGIES.map((s) => (
                    <option key={s} value={s}>
                      {s.replace('_', ' ')}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            {chosen && (
              <p className="hint">
                {chosen.environment} · active version {chosen.activeVersion?.version ?? 'none'} · latest {chosen.latestVersion?.version ?? 'none'}
              </p>
            )}
          </fieldset>
          <StrategyFields form={form} set={set} />
          <HealthFields form={form} set={set} />
        </div>
        <div>
          <PlanPreview plan={plan.data?.deploymentPlan} error={plan.error} loading={plan.loading} problems={problems} />
          {!allowed && (
            <p className="dp-notice" role="note">
              Your role may not start deployments{chosen ? ` in ${chosen.environment}` : ''}.
            </p>
          )}
          {start.error && <ErrorBox error={start.error} title="Not started" />}
          <div className="actions">
            <button type="submit" disabled={!allowed || !input || start.busy}>
              {start.busy ? 'Starting…' : 'Start deployment'}
            </button>
          </div>
        </div>
      </form>
    </section>
  );
}
