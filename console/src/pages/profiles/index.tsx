import { Route, Switch } from 'wouter';
import { DiffPage } from './diff-page';
import { PublishPage } from './publish-page';
import { CreateProfile, EditProfile } from './profile-form';
import { ProfileList } from './profile-list';
import { ProfilePage } from './profile-page';
import './profiles.css';

/** The profiles section's pages (paths relative to /profiles). */
export function ProfilesRoutes() {
  return (
    <Switch>
      <Route path="/">
        <ProfileList />
      </Route>
      <Route path="/new">
        <CreateProfile />
      </Route>
      <Route path="/:name/edit">{(p) => <EditProfile key={p.name} name={p.name} />}</Route>
      <Route path="/:name/publish">{(p) => <PublishPage key={p.name} name={p.name} />}</Route>
      <Route path="/:name/diff">{(p) => <DiffPage key={p.name} name={p.name} />}</Route>
      <Route path="/:name">{(p) => <ProfilePage key={p.name} name={p.name} />}</Route>
      <Route>
        <p role="alert">No such page in Profiles.</p>
      </Route>
    </Switch>
  );
}
