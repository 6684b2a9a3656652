import { useCallback, useEffect, useState } from 'react';
import { Redirect, Route, Switch, useLocation } from 'wouter';
import { gql, GqlError } from './api/graphql';
import { currentToken, onTokenChange, setToken, takeEndReason, takeSignInCode } from './auth/session';
import { SignInPage } from './auth/sign-in-page';
import { VIEWER_QUERY, type Viewer, ViewerContext } from './auth/viewer';
import { ErrorBoundary } from './components/error-boundary';
import { Layout } from './components/layout';
import { DeploymentsRoutes } from './pages/deployments';
import { InstancesRoutes } from './pages/instances';
import { ProfilesRoutes } from './pages/profiles';
import { SchemasRoutes } from './pages/schemas';

const REDEEM = `mutation Redeem($code: String!) { redeemSignInLink(code: $code) }`;

/** Signs in (a pasted token or the one-time link), then shows the console for that viewer. */
export function App() {
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [error, setError] = useState<GqlError>();
  const [busy, setBusy] = useState(true);
  const [location] = useLocation();

  const loadViewer = useCallback(async () => {
    setBusy(true);
    try {
      const code = takeSignInCode();
      if (code) setToken((await gql<{ redeemSignInLink: string }>(REDEEM, { code })).redeemSignInLink);
      if (!currentToken()) {
        setViewer(null);
        return;
      }
      setViewer((await gql<{ viewer: Viewer }>(VIEWER_QUERY)).viewer);
      setError(undefined);
    } catch (e) {
      const err = e instanceof GqlError ? e : new GqlError('INTERNAL_SERVER_ERROR', String(e));
      // A token the server refuses is dropped; an unreachable server keeps it for the next try.
      if (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN' || err.code === 'BAD_USER_INPUT') setToken(null);
      setViewer(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    void loadViewer();
    return onTokenChange(() => {
      if (currentToken()) return;
      setViewer(null);
      const reason = takeEndReason();
      setError(reason instanceof GqlError ? reason : undefined);
    });
  }, [loadViewer]);

  if (!viewer) {
    return (
      <SignInPage
        busy={busy}
        error={error}
        onToken={(token) => {
          setToken(token);
          void loadViewer();
        }}
      />
    );
  }
  return (
    <ViewerContext.Provider value={viewer}>
      <Layout onSignOut={() => setToken(null)}>
        <ErrorBoundary resetKey={location}>
          <Switch>
            <Route path="/">
              <Redirect to="/profiles" replace />
            </Route>
            <Route path="/profiles" nest>
              <ProfilesRoutes />
            </Route>
            <Route path="/deployments" nest>
              <DeploymentsRoutes />
            </Route>
            <Route path="/schemas" nest>
              <SchemasRoutes />
            </Route>
            <Route path="/instances" nest>
              <InstancesRoutes />
            </Route>
            <Route>
              <p role="alert">This page does not exist. Pick a section above.</p>
            </Route>
          </Switch>
        </ErrorBoundary>
      </Layout>
    </ViewerContext.Provider>
  );
}
