import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { createProfile, ok, publish } from '../support/api.js';
import { type ConsoleRig, startConsoleRig } from '../support/console.js';
import { type Fleet, startDeployment, startFleet, waitForDeployment } from '../support/fleet.js';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's WCAG 2 A and AA rules on the page as it is now; the serious and critical violations. */
async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const found = (await page.evaluate('axe.run(document, { runOnly: ["wcag2a", "wcag2aa"] }).then((r) => r.violations)')) as AxeViolation[];
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

/** Every main page, with data on it, checked by axe-core; and the console used with the keyboard alone. */
describe('console: accessibility', () => {
  let rig: ConsoleRig;
  let fleet: Fleet;
  let deploymentId: string;

  beforeAll(async () => {
    rig = await startConsoleRig();
    await createProfile(rig.api, 'a11y-api', { service: 'a11y', environment: Environment.STAGING });
    await publish(rig.api, 'a11y-api', { timeoutMs: 100, features: { search: false } });
    await publish(rig.api, 'a11y-api', { timeoutMs: 250, features: { search: true } });
    ok(await rig.api.gql('mutation { registerSchema(input: {name: "a11y-schema", schema: {type: "object"}}) { id } }'));
    fleet = await startFleet(rig.api, { service: 'a11y', count: 3 });
    fleet.keepAlive(1000);
    deploymentId = (await startDeployment(rig.api, { profileName: 'a11y-api', version: 2, strategy: 'DIRECT' })).id;
    await waitForDeployment(rig.api, deploymentId, 20_000);
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await rig?.stop();
  });

  it('has no serious or critical WCAG 2 A/AA violations on the sign-in page and the main pages', async () => {
    const { page } = await rig.browser.newPage(undefined, { bypassCSP: true });
    await page.goto(rig.origin);
    await page.getByLabel('Token').waitFor();
    const problems: Record<string, string[]> = { '/ (sign in)': await violations(page) };
    await page.getByLabel('Token').fill(await rig.token(Role.ADMIN, 'ally'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('viewer').waitFor();
    for (const path of ['/profiles', '/profiles/a11y-api', '/deployments', `/deployments/${deploymentId}`, '/schemas', '/instances']) {
      await page.goto(rig.origin + path);
      await page.getByTestId('viewer').waitFor();
      // Let the page finish loading its data.
      await page.waitForFunction('!document.querySelector(".loading")', undefined, { timeout: 10_000 });
      problems[path] = await violations(page);
    }
    expect(Object.fromEntries(Object.entries(problems).filter(([, v]) => v.length > 0))).toEqual({});
  });

  it('can be used with the keyboard alone: sign in, then reach a section', async () => {
    const { page } = await rig.browser.newPage();
    await page.goto(rig.origin);
    await page.getByLabel('Token').waitFor();
    // The token field has the focus on arrival.
    await page.keyboard.insertText(await rig.token(Role.OPERATOR, 'kim'));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByTestId('viewer').waitFor();
    // Tab from the top of the page to the Instances link and follow it.
    let focused = '';
    for (let i = 0; i < 12 && focused !== 'Instances'; i++) {
      await page.keyboard.press('Tab');
      focused = (await page.evaluate('document.activeElement?.textContent ?? ""')) as string;
    }
    expect(focused).toBe('Instances');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${rig.origin}/instances`);
  });
});
