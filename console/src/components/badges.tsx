/** A status word with a color class of its own (e.g. `status-COMPLETED`). */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{status.replace(/_/g, ' ')}</span>;
}

/** A time as the reader's local time, with the ISO value in the tooltip. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  const d = new Date(at);
  return (
    <time dateTime={at} title={at}>
      {d.toLocaleString()}
    </time>
  );
}

/** A hash shortened for tables, whole in the tooltip. */
export function Hash({ value }: { value: string }) {
  return (
    <code className="hash" title={value}>
      {value.slice(0, 12)}
    </code>
  );
}
