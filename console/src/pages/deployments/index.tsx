import { Route, Switch } from 'wouter';
import { DeploymentsList } from './list-page';
import { LiveDeployment } from './live-page';
import { StartDeployment } from './start-page';
import './deployments.css';

/** The deployments section's pages (paths relative to /deployments). */
export function DeploymentsRoutes() {
  return (
    <div className="dp">
      <Switch>
        <Route path="/">
          <DeploymentsList />
        </Route>
        <Route path="/new">
          <StartDeployment />
        </Route>
        <Route path="/:id">{(params) => <LiveDeployment key={params.id} id={params.id} />}</Route>
      </Switch>
    </div>
  );
}
