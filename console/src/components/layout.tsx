import { type ReactNode, useEffect, useState } from 'react';
import { Link, useRoute } from 'wouter';
import { type LiveState, onLiveConnection } from '../api/live';
import { useViewer } from '../auth/viewer';

function NavLink({ href, children }: { href: string; children: ReactNode }) {
  const [active] = useRoute(`${href}/*?`);
  return (
    <Link href={href} className={active ? 'active' : undefined} aria-current={active ? 'page' : undefined}>
      {children}
    </Link>
  );
}

/** The frame of every page: sections, who is signed in, and whether live updates flow. */
export function Layout({ children, onSignOut }: { children: ReactNode; onSignOut(): void }) {
  const viewer = useViewer();
  const [live, setLive] = useState<LiveState>('idle');
  useEffect(() => onLiveConnection(setLive), []);
  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="/">
          HotSwap
        </a>
        <nav aria-label="Sections">
          <NavLink href="/profiles">Profiles</NavLink>
          <NavLink href="/deployments">Deployments</NavLink>
          <NavLink href="/schemas">Schemas</NavLink>
          <NavLink href="/instances">Instances</NavLink>
          <a href="/graphql">
            Explorer
          </a>
        </nav>
        <div className="who">
          {live === 'dropped' && (
            <span className="badge status-FAILED" role="status">
              live updates reconnecting…
            </span>
          )}
          <span data-testid="viewer">
            {viewer.sub} · <strong>{viewer.role}</strong>
          </span>
          <button type="button" className="link" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
