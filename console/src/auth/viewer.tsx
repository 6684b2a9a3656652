import { createContext, useContext } from 'react';

/** Who the token says the caller is, and what the server says it may do. */
export interface Viewer {
  sub: string;
  role: string;
  expiresAt: string | null;
  /** Actions the server allows this caller (e.g. `version:publish`, `schema:approve`). */
  actions: string[];
  /** Environments the caller may start deployments in. */
  deployEnvironments: string[];
}

export const VIEWER_QUERY = `query Viewer { viewer { sub role expiresAt actions deployEnvironments } }`;

export const ViewerContext = createContext<Viewer | null>(null);

export function useViewer(): Viewer {
  const viewer = useContext(ViewerContext);
  if (!viewer) throw new Error('useViewer outside a signed-in page');
  return viewer;
}

/**
 * Whether the UI offers an action: buttons the caller may not use are hidden or
 * disabled. The server still decides; this only avoids offering a refusal.
 */
export function useCan(): (action: string, environment?: string) => boolean {
  const viewer = useViewer();
  return (action, environment) => {
    if (!viewer.actions.includes(action)) return false;
    if (action === 'deployment:start' && environment !== undefined) return viewer.deployEnvironments.includes(environment);
    return true;
  };
}
