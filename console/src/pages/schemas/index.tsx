import { Route, Switch } from 'wouter';

/** The schemas section's pages (paths relative to /schemas). */
export function SchemasRoutes() {
  return (
    <Switch>
      <Route path="/">
        <h1>Schemas</h1>
      </Route>
    </Switch>
  );
}
