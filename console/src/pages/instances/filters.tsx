import { ENVIRONMENTS, INSTANCE_STATUSES } from '../../api/enums';
import { ChoiceField } from '../../components/choice-field';

export interface InstanceFilter {
  service: string;
  environment: string;
  status: string;
  /** '', 'yes' or 'no' (applied in the page: the API has no such filter). */
  connected: string;
}

/** Service, environment, status and connection filters; each change narrows the list at once. */
export function Filters({ value, onChange, services }: { value: InstanceFilter; onChange(v: InstanceFilter): void; services: string[] }) {
  const set = (k: keyof InstanceFilter) => (v: string) => onChange({ ...value, [k]: v });
  // A service in the URL that has no instance yet stays selectable.
  const choices = value.service && !services.includes(value.service) ? [value.service, ...services] : services;
  const any = Object.values(value).some((v) => v !== '');
  return (
    <form className="form-row inst-filters" aria-label="Filter instances" onSubmit={(e) => e.preventDefault()}>
      <ChoiceField id="filter-service" label="Service" value={value.service} choices={choices} onChange={set('service')} any="All services" />
      <ChoiceField id="filter-environment" label="Environment" value={value.environment} choices={ENVIRONMENTS} onChange={set('environment')} any="All environments" />
      <ChoiceField id="filter-status" label="Status" value={value.status} choices={INSTANCE_STATUSES} onChange={set('status')} any="Any status" />
      <ChoiceField
        id="filter-connected"
        label="Connected"
        value={value.connected}
        choices={['yes', 'no']}
        onChange={set('connected')}
        any="Either"
        format={(v) => (v === 'yes' ? 'Yes' : 'No')}
      />
      {any && (
        <button type="button" className="secondary" onClick={() => onChange({ service: '', environment: '', status: '', connected: '' })}>
          Clear filters
        </button>
      )}
    </form>
  );
}
