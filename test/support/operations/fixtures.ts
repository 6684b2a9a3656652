import { expect } from 'vitest';
import { Environment, Role } from '../../../src/domain/enums.js';
import { type Api, approvedSchema, createProfile, ok, publish } from '../api.js';
import { registerInstance } from '../fleet.js';
import { connectWs } from '../ws-client.js';

/** What the valid inputs refer to: made fresh (as ADMIN) for each test that may change them. */
export interface Fixtures {
  tag: string;
  service: string;
  /**
   * STAGING profile of `service` with versions 1 and 2, no deployment; version 1
   * is active (set in the database) and was sent to the instance when it
   * subscribed, so the instance may ack it.
   */
  profile: string;
  /** STAGING profile of `service` with versions 1 and 2 and a deployment of version 1 (PENDING: the server runs no workers). */
  deployedProfile: string;
  deploymentId: string;
  /** A DRAFT schema, a PENDING_APPROVAL one and an APPROVED one. */
  draftSchemaId: string;
  pendingSchemaId: string;
  approvedSchemaId: string;
  /** A registered instance of `service` and its own INSTANCE token. */
  instanceId: string;
  instanceToken: string;
  /** Another registered instance of `service`. */
  otherInstanceId: string;
  otherInstanceToken: string;
  /** An INSTANCE token without instanceId, for `service` in STAGING. */
  registrationToken: string;
}

let fixtureCounter = 0;

/** Fresh fixtures on `a`'s server (run it with HOTSWAP_WORKERS=false so nothing changes them behind the test's back). */
export async function makeFixtures(a: Api, label: string): Promise<Fixtures> {
  const tag = `${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 30)}-${++fixtureCounter}`;
  const service = `svc-${tag}`;
  const profile = `p-${tag}`;
  const deployedProfile = `d-${tag}`;
  for (const name of [profile, deployedProfile]) {
    await createProfile(a, name, { service, environment: Environment.STAGING });
    await publish(a, name, { level: 1 });
    await publish(a, name, { level: 2 });
  }
  const registerSchemaDoc = 'mutation($n: String!, $s: JSON!) { registerSchema(input: { name: $n, schema: $s }) { id } }';
  const schema = async (name: string) =>
    ok(await a.gql<{ registerSchema: { id: string } }>(registerSchemaDoc, { n: name, s: { type: 'object' } })).registerSchema.id;
  const draftSchemaId = await schema(`draft-${tag}`);
  const pendingSchemaId = await schema(`pending-${tag}`);
  ok(await a.gql('mutation($id: ID!) { submitSchemaForApproval(id: $id) { status } }', { id: pendingSchemaId }));
  const approvedSchemaId = await approvedSchema(a, { type: 'object' }, `approved-${tag}`);
  const inst = await registerInstance(a, service, Environment.STAGING, 'fixture-host');
  const other = await registerInstance(a, service, Environment.STAGING, 'fixture-other');
  // Version 1 active without a deployment (the server runs no workers), then sent to the instance on subscribe.
  await a.server.db.query('update config_profile set active_version = 1 where name = $1', [profile]);
  // Both stay subscribed, as running instances are: deployments target the connected instances.
  // Their sockets close with the server at the end of the file.
  for (const i of [inst, other]) {
    const first = await connectWs(a.server.url, i.token)
      .subscribe<{ configUpdates: { version: number } }>('subscription($id: ID!) { configUpdates(instanceId: $id) { version } }', { id: i.id })
      .next();
    expect(first.data?.configUpdates.version, JSON.stringify(first)).toBe(1);
  }
  const deploymentId = ok(
    await a.gql<{ startDeployment: { id: string } }>(
      'mutation($p: String!) { startDeployment(input: { profileName: $p, version: 1, strategy: DIRECT, ackTimeoutSeconds: 5 }) { id } }',
      { p: deployedProfile },
    ),
  ).startDeployment.id;
  const registrationToken = await a.server.token(Role.INSTANCE, { sub: `registrar-${tag}`, service, environment: Environment.STAGING });
  return {
    tag,
    service,
    profile,
    deployedProfile,
    deploymentId,
    draftSchemaId,
    pendingSchemaId,
    approvedSchemaId,
    instanceId: inst.id,
    instanceToken: inst.token,
    otherInstanceId: other.id,
    otherInstanceToken: other.token,
    registrationToken,
  };
}
