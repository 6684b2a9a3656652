import { Route, Switch } from 'wouter';
import { InstanceListPage } from './list-page';
import './instances.css';

/** The instances section's pages (paths relative to /instances). */
export function InstancesRoutes() {
  return (
    <Switch>
      <Route path="/">
        <InstanceListPage />
      </Route>
      <Route>
        <p role="alert">No such page in Instances.</p>
      </Route>
    </Switch>
  );
}
