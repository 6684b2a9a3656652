/** A labelled select of plain values; `any` adds a first, empty choice (a filter that is off). */
export function ChoiceField(props: {
  id: string;
  label: string;
  value: string;
  choices: readonly string[];
  onChange(value: string): void;
  any?: string;
  /** How a value reads (e.g. `ROLLED_BACK` as "ROLLED BACK"). */
  format?: (value: string) => string;
}) {
  return (
    <div>
      <label htmlFor={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        {props.any !== undefined && <option value="">{props.any}</option>}
        {props.choices.map((c) => (
          <option key={c} value={c}>
            {props.format ? props.format(c) : c}
          </option>
        ))}
      </select>
    </div>
  );
}

/** `PENDING_APPROVAL` as "PENDING APPROVAL". */
export const spaced = (value: string): string => value.replace(/_/g, ' ');
