import { Route, Switch } from 'wouter';

/** The profiles section's pages (paths relative to /profiles). */
export function ProfilesRoutes() {
  return (
    <Switch>
      <Route path="/">
        <h1>Profiles</h1>
      </Route>
    </Switch>
  );
}
