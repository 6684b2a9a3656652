import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { ok } from '../support/api.js';
import { type ConsoleRig, startConsoleRig } from '../support/console.js';
import { type DeploymentShape, type Fleet, startDeployment } from '../support/fleet.js';
import { fleetOnVersion1, profileWithVersions, untilDeployment } from '../support/progressive.js';
import { DEPLOYMENT_RIG_ENV, markDocument, openDeployment, sameDocument, snapshot, untilStatus } from './deployments-support.js';

const PAUSE = 'mutation($id: ID!) { pauseDeployment(id: $id) { status } }';
const RESUME = 'mutation($id: ID!) { resumeDeployment(id: $id) { status } }';

describe('console: controlling a deployment', () => {
  let rig: ConsoleRig;
  const fleets: Fleet[] = [];
  beforeAll(async () => {
    rig = await startConsoleRig(DEPLOYMENT_RIG_ENV);
  });
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await rig?.stop();
  });

  /** Two instances on version 1, then version 2 as a canary of two phases baking `bakeSeconds`, once phase 1 is applied. */
  const canaryInBake = async (name: string, bakeSeconds: number): Promise<DeploymentShape> => {
    await fleetOnVersion1(rig.api, name, { count: 2, fleets });
    const started = await startDeployment(rig.api, { profileName: name, version: 2, strategy: 'CANARY', canary: { phases: [0.5, 1], bakeSeconds }, ackTimeoutSeconds: 5 });
    return untilDeployment(rig.api, started.id, (d) => d.targets.some((t) => t.state === 'APPLIED'), 'phase 1 to be applied');
  };

  it('pauses and resumes from the buttons, and the page follows to COMPLETED', async () => {
    const d = await canaryInBake('ui-pause', 6);
    const page = await rig.signedIn(Role.OPERATOR, 'otto');
    await openDeployment(rig, page, d.id);
    await markDocument(page);
    await page.getByRole('button', { name: 'Pause' }).click();
    await untilStatus(page, 'PAUSED');
    await page.getByTestId('event').filter({ hasText: 'otto' }).filter({ hasText: 'PAUSED' }).waitFor();
    expect(await page.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByTestId('event').filter({ hasText: 'RESUMED' }).waitFor();
    await untilStatus(page, 'COMPLETED', 30_000);
    const types = (await snapshot(page)).events;
    expect(types.indexOf('RESUMED')).toBeLessThan(types.indexOf('PAUSED'));
    expect(await sameDocument(page)).toBe(true);
  });

  it('rolls back with a reason from the button: the reason is required, recorded and shown', async () => {
    const d = await canaryInBake('ui-rollback', 60);
    const page = await rig.signedIn(Role.OPERATOR, 'otto');
    await openDeployment(rig, page, d.id);
    await page.getByRole('button', { name: 'Roll back…' }).click();
    const confirm = page.getByRole('button', { name: 'Roll back now' });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel(/Why roll back/).fill('v2 breaks the checkout');
    await confirm.click();
    await untilStatus(page, 'ROLLED_BACK');
    expect(await page.getByTestId('outcome-reason').textContent()).toContain('v2 breaks the checkout');
    const s = await snapshot(page);
    expect(s.events).toEqual(expect.arrayContaining(['ROLLBACK_STARTED', 'ROLLED_BACK']));
    expect(s.targets).toContain('ROLLED_BACK');
    expect(await page.getByRole('button', { name: /Roll back|Pause|Resume/ }).count()).toBe(0);
  });

  it('a DEVELOPER sees no pause, resume or roll back, and may not start in PRODUCTION', async () => {
    const d = await canaryInBake('ui-dev', 60);
    ok(await rig.api.gql(PAUSE, { id: d.id }));
    await profileWithVersions(rig.api, 'ui-prod', 1, { environment: Environment.PRODUCTION });

    const operator = await rig.signedIn(Role.OPERATOR, 'otto');
    await openDeployment(rig, operator, d.id);
    await untilStatus(operator, 'PAUSED');
    await operator.getByRole('button', { name: 'Resume' }).waitFor();

    const dev = await rig.signedIn(Role.DEVELOPER, 'dana');
    await openDeployment(rig, dev, d.id);
    await untilStatus(dev, 'PAUSED');
    expect(await dev.getByRole('button', { name: /Pause|Resume|Roll back/ }).count()).toBe(0);

    await dev.goto(`${rig.origin}/deployments/new`);
    await dev.getByLabel('Profile', { exact: true }).selectOption('ui-prod');
    await dev.getByRole('note').filter({ hasText: 'may not start deployments in PRODUCTION' }).waitFor();
    expect(await dev.getByRole('button', { name: 'Start deployment' }).isDisabled()).toBe(true);
    // The preview still explains itself: no instance of the service is connected.
    expect(await dev.locator('.dp-plan').getByRole('alert').textContent()).toMatch(/BAD_USER_INPUT/);
    // STAGING is the developer's to deploy to.
    await dev.getByLabel('Profile', { exact: true }).selectOption('ui-dev');
    await dev.getByRole('note').waitFor({ state: 'detached' });
    expect(await dev.getByRole('button', { name: 'Start deployment' }).isEnabled()).toBe(true);
  });

  it('survives the server restarting: shows it is reconnecting, then catches up with what happened meanwhile', async () => {
    const d = await canaryInBake('ui-restart', 60);
    const page = await rig.signedIn(Role.ADMIN, 'ada');
    await openDeployment(rig, page, d.id);
    await markDocument(page);
    const liveState = page.getByTestId('live-state');
    await liveState.filter({ hasText: '● live' }).waitFor();

    const restarting = rig.restart();
    await liveState.filter({ hasText: 'reconnecting' }).waitFor({ timeout: 15_000 });
    await restarting;
    // Meanwhile (the page still reconnecting, most likely): paused by someone else.
    ok(await rig.api.gql(PAUSE, { id: d.id }));
    await untilStatus(page, 'PAUSED');
    await page.getByTestId('event').filter({ hasText: 'PAUSED' }).waitFor();
    await liveState.filter({ hasText: 'reconnected and caught up' }).waitFor({ timeout: 15_000 });
    // A paused deployment is not polled: what comes next arrives on the new subscription.
    ok(await rig.api.gql(RESUME, { id: d.id }));
    await page.getByTestId('event').filter({ hasText: 'RESUMED' }).waitFor();
    await untilStatus(page, 'IN_PROGRESS');
    expect(await sameDocument(page)).toBe(true);
  });
});
