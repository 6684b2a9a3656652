import { Route, Switch } from 'wouter';
import { SchemaDetailPage } from './detail-page';
import { SchemaListPage } from './list-page';
import { RegisterSchemaPage } from './register-page';
import './schemas.css';

/** The schemas section's pages (paths relative to /schemas). */
export function SchemasRoutes() {
  return (
    <Switch>
      <Route path="/">
        <SchemaListPage />
      </Route>
      <Route path="/new">
        <RegisterSchemaPage />
      </Route>
      <Route path="/:id">{(params) => <SchemaDetailPage key={params.id} id={params.id} />}</Route>
    </Switch>
  );
}
