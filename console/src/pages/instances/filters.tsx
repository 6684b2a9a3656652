import { ENVIRONMENTS, INSTANCE_STATUSES } from './api';

export interface InstanceFilter {
  service: string;
  environment: string;
  status: string;
  /** '', 'yes' or 'no' (applied in the page: the API has no such filter). */
  connected: string;
}

/** Service, environment, status and connection filters; each change narrows the list at once. */
export function Filters({ value, onChange, services }: { value: InstanceFilter; onChange(v: InstanceFilter): void; services: string[] }) {
  const set = (k: keyof InstanceFilter) => (e: { target: { value: string } }) => onChange({ ...value, [k]: e.target.value });
  // A service in the URL that has no instance yet stays selectable.
  const choices = value.service && !services.includes(value.service) ? [value.service, ...services] : services;
  const any = Object.values(value).some((v) => v !== '');
  return (
    <form className="form-row inst-filters" aria-label="Filter instances" onSubmit={(e) => e.preventDefault()}>
      <div>
        <label htmlFor="filter-service">Service</label>
        <select id="filter-service" value={value.service} onChange={set('service')}>
          <option value="">All services</option>
          {choices.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor="filter-environment">Environment</label>
        <select id="filter-environment" value={value.environment} onChange={set('environment')}>
          <option value="">All environments</option>
          {ENVIRONMENTS.map((e) => (
            <option key={e} value={e}>
              {e}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor="filter-status">Status</label>
        <select id="filter-status" value={value.status} onChange={set('status')}>
          <option value="">Any status</option>
          {INSTANCE_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label htmlFor="filter-connected">Connected</label>
        <select id="filter-connected" value={value.connected} onChange={set('connected')}>
          <option value="">Either</option>
          <option value="yes">Yes</option>
          <option value="no">No</option>
        </select>
      </div>
      {any && (
        <button type="button" className="secondary" onClick={() => onChange({ service: '', environment: '', status: '', connected: '' })}>
          Clear filters
        </button>
      )}
    </form>
  );
}
