import type { ReactNode } from 'react';
import type { StartForm } from './start-input';

export type SetField = <K extends keyof StartForm>(key: K, value: StartForm[K]) => void;

/** A labelled text input bound to one field of the form, with an optional hint under it. */
function Field(props: { form: StartForm; set: SetField; name: keyof StartForm; label: string; hint?: ReactNode; placeholder?: string; inputMode?: 'numeric' | 'decimal' | 'text' }) {
  const id = `sd-${props.name}`;
  return (
    <div className="dp-field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        inputMode={props.inputMode ?? 'numeric'}
        value={String(props.form[props.name])}
        placeholder={props.placeholder}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        onChange={(e) => props.set(props.name, e.target.value as never)}
      />
      {props.hint && (
        <p className="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

/** The chosen strategy's options. */
export function StrategyFields({ form, set }: { form: StartForm; set: SetField }) {
  const common = { form, set };
  return (
    <fieldset className="panel">
      <legend>{form.strategy.replace('_', ' ').toLowerCase()} options</legend>
      <div className="form-row">
        {form.strategy === 'CANARY' && (
          <>
            <Field {...common} name="canaryPhases" label="Phases (% of instances)" inputMode="text" hint="Cumulative, ending at 100." />
            <Field {...common} name="bakeSeconds" label="Bake (s)" hint="Observed after each phase's acks, before the verdict." />
          </>
        )}
        {form.strategy === 'ROLLING' && (
          <>
            <div className="dp-field">
              <label htmlFor="sd-batchMode">Batch by</label>
              <select id="sd-batchMode" value={form.batchMode} onChange={(e) => set('batchMode', e.target.value === 'size' ? 'size' : 'percent')}>
                <option value="percent">percent of instances</option>
                <option value="size">number of instances</option>
              </select>
            </div>
            <Field {...common} name="batch" label={form.batchMode === 'size' ? 'Batch size' : 'Batch (%)'} inputMode="decimal" />
            <Field {...common} name="intervalSeconds" label="Interval (s)" />
          </>
        )}
        {form.strategy === 'BLUE_GREEN' && <Field {...common} name="verifySeconds" label="Verification (s)" hint="Before traffic switches to the new color." />}
        {form.strategy === 'DIRECT' && <Field {...common} name="maxConcurrency" label="Max concurrent pushes" />}
        <Field {...common} name="ackTimeoutSeconds" label="Ack timeout (s)" />
      </div>
    </fieldset>
  );
}

/** The health policy: what fails a phase, and what happens then. */
export function HealthFields({ form, set }: { form: StartForm; set: SetField }) {
  const common = { form, set };
  if (form.strategy === 'DIRECT') return null;
  return (
    <fieldset className="panel">
      <legend>Health policy</legend>
      <div className="form-row">
        <div className="dp-field dp-checkbox">
          <input id="sd-autoRollback" type="checkbox" checked={form.autoRollback} onChange={(e) => set('autoRollback', e.target.checked)} />
          <label htmlFor="sd-autoRollback">Roll back automatically on a FAIL verdict</label>
        </div>
        <div className="dp-field">
          <label htmlFor="sd-onInconclusive">When still inconclusive</label>
          <select id="sd-onInconclusive" value={form.onInconclusive} onChange={(e) => set('onInconclusive', e.target.value === 'PROMOTE' ? 'PROMOTE' : 'PAUSE')}>
            <option value="PAUSE">pause for an operator</option>
            <option value="PROMOTE">promote (fleets without metrics)</option>
          </select>
        </div>
      </div>
      <details>
        <summary>Limits and evidence (defaults when empty)</summary>
        <div className="form-row">
          <Field {...common} name="maxErrorRatePoints" label="Max error rate increase (points)" inputMode="decimal" placeholder="none" />
          <Field {...common} name="maxLatencyIncreasePct" label="Max p99 latency increase (%)" inputMode="decimal" placeholder="none" />
          <Field {...common} name="confidence" label="Confidence" inputMode="decimal" placeholder="0.98" />
          <Field {...common} name="minSamples" label="Samples per group" placeholder="10" />
          <Field {...common} name="minHeartbeats" label="Heartbeats as evidence" placeholder="2" />
          <Field {...common} name="evidenceTimeoutSeconds" label="Evidence timeout (s)" placeholder="6 heartbeats" />
        </div>
      </details>
    </fieldset>
  );
}
