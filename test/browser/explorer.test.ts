import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { createProfile } from '../support/api.js';
import { type ConsoleRig, startConsoleRig } from '../support/console.js';

describe('console: the GraphQL explorer', () => {
  let rig: ConsoleRig;
  beforeAll(async () => {
    rig = await startConsoleRig();
    await createProfile(rig.api, 'explored-api', { service: 'explored' });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('runs a query with the signed-in token, loading nothing from any other host', async () => {
    const page = await rig.signedIn(Role.DEVELOPER, 'erin');
    const foreign: string[] = [];
    // Anything not from this server is refused and recorded: the explorer must not need it.
    await page.context().route(
      (url) => url.origin !== rig.origin,
      (route) => {
        foreign.push(route.request().url());
        return route.abort();
      },
    );
    await page.getByRole('link', { name: 'Explorer' }).click();
    await page.waitForURL(`${rig.origin}/graphql`);
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.waitFor({ timeout: 30_000 });
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ viewer { sub role } profiles { edges { node { name } } } }');
    await page.getByRole('button', { name: /execute query/i }).click();
    const response = page.locator('.graphiql-response');
    await expect.poll(async () => response.textContent(), { timeout: 15_000 }).toMatch(/"sub":\s*"erin"/);
    const text = (await response.textContent()) ?? '';
    expect(text).toMatch(/"role":\s*"DEVELOPER"/);
    expect(text).toContain('explored-api');
    expect(foreign).toEqual([]);
    await rig.screenshot(page, 'explorer');
  });
});
