/**
 * The session's token lives in sessionStorage: it survives a reload of the tab,
 * not the tab itself, and is never put in a URL.
 */
const KEY = 'hotswap.token';
const listeners = new Set<() => void>();
let endedBecause: Error | null = null;

export function currentToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, token);
  listeners.forEach((l) => l());
}

/** Forgets the token because the server refused it; the sign-in page shows `reason`. */
export function endSession(reason: Error): void {
  endedBecause = reason;
  setToken(null);
}

/** Why the last session ended, once (null after a sign-out or when read). */
export function takeEndReason(): Error | null {
  const reason = endedBecause;
  endedBecause = null;
  return reason;
}

export function onTokenChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The one-time sign-in link printed by an embedded server carries its code in
 * the URL fragment (`#sign-in=…`), which browsers never send to a server. The
 * code is taken out of the address bar and history at once, before it is redeemed.
 */
export function takeSignInCode(): string | null {
  const match = /^#sign-in=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  if (!match) return null;
  window.history.replaceState(null, '', window.location.pathname + window.location.search);
  return match[1] ?? null;
}
