import { type FormEvent, useState } from 'react';
import { ErrorBox } from '../components/error-box';
import type { GqlError } from '../api/graphql';

/** Paste a token (from `hotswap token …`, the start-up banner or your identity provider). */
export function SignInPage(props: { onToken(token: string): void; error: GqlError | undefined; busy: boolean }) {
  const [token, setToken] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (token.trim()) props.onToken(token.trim());
  };
  return (
    <main className="sign-in">
      <h1>HotSwap</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="token">Token</label>
        <textarea id="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} placeholder="eyJhbGciOi…" autoFocus spellCheck={false} />
        <p className="hint">
          A bearer token from <code>hotswap token --role OPERATOR --sub you</code>, your identity provider, or the one-time link an embedded server prints at start-up.
          It is kept in this tab only (session storage).
        </p>
        {props.error && <ErrorBox error={props.error} />}
        <button type="submit" disabled={props.busy || !token.trim()}>
          {props.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
