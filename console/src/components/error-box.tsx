import type { GqlError } from '../api/graphql';

/** A refusal or failure as the server said it: its code and its message. */
export function ErrorBox({ error, title }: { error: GqlError; title?: string }) {
  return (
    <div className="error-box" role="alert">
      <strong>{title ?? 'Refused'}</strong> <code className="error-code">{error.code}</code>
      <p>{error.message}</p>
      {error.errors.length > 1 && (
        <ul>
          {error.errors.slice(1).map((e, i) => (
            <li key={i}>{e.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}
