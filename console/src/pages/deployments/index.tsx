import { Route, Switch } from 'wouter';

/** The deployments section's pages (paths relative to /deployments). */
export function DeploymentsRoutes() {
  return (
    <Switch>
      <Route path="/">
        <h1>Deployments</h1>
      </Route>
    </Switch>
  );
}
