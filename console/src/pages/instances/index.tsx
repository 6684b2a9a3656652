import { Route, Switch } from 'wouter';

/** The instances section's pages (paths relative to /instances). */
export function InstancesRoutes() {
  return (
    <Switch>
      <Route path="/">
        <h1>Instances</h1>
      </Route>
    </Switch>
  );
}
