import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { createProfile, ok, publish, readProfile, readVersion } from '../support/api.js';
import { type ConsoleRig, startConsoleRig } from '../support/console.js';

/** The publish page's editor (CodeMirror), by its accessible name. */
const editorOf = (page: Page) => page.getByRole('textbox', { name: 'Config (JSON)' });

/** Replaces the editor's text as a person would: focus it, select all, type. */
async function typeConfig(page: Page, text: string): Promise<void> {
  await editorOf(page).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** Publishes `config` through the UI from the profile's page; returns once the profile page says it was published. */
async function publishThroughUi(page: Page, config: unknown, description: string): Promise<void> {
  await page.getByRole('link', { name: 'Publish a new version' }).click();
  await editorOf(page).waitFor();
  await typeConfig(page, JSON.stringify(config, null, 2));
  await page.getByLabel('Description').fill(description);
  const button = page.getByRole('button', { name: 'Publish version' });
  await expect.poll(() => button.isEnabled()).toBe(true);
  await button.click();
  await page.getByRole('status').filter({ hasText: /^Published version \d+\.$/ }).waitFor();
}

/** The text of each row's first cell in the table named `table`. */
async function firstCells(page: Page, table: string): Promise<string[]> {
  return page.getByRole('table', { name: table }).locator('tbody tr td:first-child a').allTextContents();
}

describe('console: profiles', () => {
  let rig: ConsoleRig;
  beforeAll(async () => {
    rig = await startConsoleRig();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('a DEVELOPER creates a profile and publishes two versions in the editor; the diff lists the changed JSON Pointer paths side by side', async () => {
    const page = await rig.signedIn(Role.DEVELOPER, 'dana');
    await page.getByRole('link', { name: 'New profile' }).click();
    await page.getByLabel('Name').fill('checkout-web');
    await page.getByLabel('Service').fill('checkout');
    await page.getByLabel('Environment').selectOption('STAGING');
    await page.getByLabel('Description').fill('Checkout front end');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await page.getByRole('heading', { name: 'checkout-web', level: 1 }).waitFor();
    expect(page.url()).toBe(`${rig.origin}/profiles/checkout-web`);
    expect(await readProfile(rig.api, 'checkout-web')).toMatchObject({ service: 'checkout', environment: 'STAGING', description: 'Checkout front end' });

    await publishThroughUi(page, { port: 8080, features: { search: false }, hosts: ['a.internal'] }, 'first cut');
    await publishThroughUi(page, { port: 8081, features: { search: true, beta: true } }, 'search on, beta flag');
    // What the server stored is what was typed, published as the signed-in developer.
    expect(await readVersion(rig.api, 'checkout-web', 1)).toMatchObject({ data: { port: 8080, features: { search: false }, hosts: ['a.internal'] }, createdBy: 'dana' });
    const v2 = await readVersion(rig.api, 'checkout-web', 2);
    expect(v2).toMatchObject({ data: { port: 8081, features: { search: true, beta: true } }, createdBy: 'dana', description: 'search on, beta flag' });

    // The profile page: latest version, and the versions list with who, description and hash.
    const latest = page.getByRole('group', { name: 'Latest version' });
    await expect(latest.textContent()).resolves.toContain('v2');
    const versions = page.getByRole('table', { name: 'Versions' });
    await versions.waitFor();
    const rows = versions.locator('tbody tr');
    expect(await rows.count()).toBe(2);
    const newest = await rows.first().textContent();
    expect(newest).toContain('v2');
    expect(newest).toContain('search on, beta flag');
    expect(newest).toContain('dana');
    expect(newest).toContain(v2!.hash.slice(0, 12));

    await page.getByRole('link', { name: 'Diff v1 to v2' }).click();
    const changes = page.getByRole('table', { name: 'Changes' });
    await changes.waitFor();
    expect(page.url()).toBe(`${rig.origin}/profiles/checkout-web/diff?from=1&to=2`);
    const paths = await changes.locator('.change-path').allTextContents();
    expect(paths.sort()).toEqual(['/features/beta', '/features/search', '/hosts', '/port']);
    const row = (path: string) => changes.locator('tbody tr', { has: page.locator('.change-path', { hasText: new RegExp(`^${path}$`) }) });
    await expect(row('/port').textContent()).resolves.toMatch(/changed.*8080.*8081/);
    await expect(row('/features/beta').textContent()).resolves.toMatch(/added.*true/);
    await expect(row('/hosts').textContent()).resolves.toMatch(/removed.*a\.internal/);
    // Both documents, side by side, with the changed lines marked on each side.
    const before = page.getByRole('figure', { name: /^v1/ });
    const after = page.getByRole('figure', { name: /^v2/ });
    await expect(before.locator('[data-mark="changed"]').allTextContents()).resolves.toEqual(expect.arrayContaining([expect.stringContaining('"port": 8080')]));
    await expect(after.locator('[data-mark="changed"]').allTextContents()).resolves.toEqual(expect.arrayContaining([expect.stringContaining('"port": 8081')]));
    await expect(after.locator('[data-mark="added"]').allTextContents()).resolves.toEqual([expect.stringContaining('"beta": true')]);
    await expect(before.locator('[data-mark="removed"]').allTextContents()).resolves.toEqual(expect.arrayContaining([expect.stringContaining('"hosts"')]));
    await rig.screenshot(page, 'profile-diff');

    // Any two versions: the compare form on the profile page picks them.
    await page.getByRole('link', { name: '← checkout-web' }).click();
    await page.getByLabel('From', { exact: true }).selectOption('2');
    await page.getByLabel('To', { exact: true }).selectOption('1');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByRole('heading', { name: 'checkout-web: v2 → v1' }).waitFor();
    await expect(row('/hosts').textContent()).resolves.toMatch(/added/);
  });

  it("shows the bound schema's errors inline at their paths before submitting, and blocks publishing until they are fixed", async () => {
    const registered = ok(
      await rig.api.gql<{ registerSchema: { id: string } }>('mutation($s: JSON!) { registerSchema(input: { name: "payments-config", schema: $s }) { id } }', {
        s: { type: 'object', properties: { port: { type: 'integer', maximum: 65535 }, mode: { enum: ['live', 'test'] } }, required: ['port'] },
      }),
    ).registerSchema.id;
    await createProfile(rig.api, 'payments-api', { service: 'payments', environment: Environment.STAGING, schemaId: registered });
    await publish(rig.api, 'payments-api', { port: 443, mode: 'live' }, 'initial');

    const page = await rig.signedIn(Role.DEVELOPER, 'devon');
    await page.goto(`${rig.origin}/profiles/payments-api/publish`);
    await editorOf(page).waitFor();
    await expect(editorOf(page).textContent()).resolves.toContain('"port": 443');
    await page.getByTestId('check-status').filter({ hasText: 'Valid against payments-config v1' }).waitFor();

    await typeConfig(page, '{\n  "port": "eighty",\n  "mode": "live"\n}');
    const status = page.getByTestId('check-status');
    await status.filter({ hasText: '1 schema error' }).waitFor();
    // Inline: the value at /port is underlined as an error, in the editor itself.
    const marked = page.locator('.cm-content .cm-lintRange-error');
    await marked.first().waitFor();
    await expect(marked.allTextContents()).resolves.toEqual(['"eighty"']);
    // And listed, with its path and the validator's message.
    const problems = page.getByRole('list', { name: 'Problems' });
    await expect(problems.textContent()).resolves.toMatch(/\/port.*must be integer/);
    expect(await page.getByRole('button', { name: 'Publish version' }).isDisabled()).toBe(true);
    await rig.screenshot(page, 'profile-publish');
    // The path in the list moves the keyboard focus into the editor.
    await problems.getByRole('button', { name: '/port' }).click();
    expect(await page.evaluate("document.activeElement?.classList.contains('cm-content')")).toBe(true);

    // Two errors at once, each at its own path; then not JSON at all: blocked too, never sent.
    await typeConfig(page, '{ "port": 70000, "mode": "staging" }');
    await status.filter({ hasText: '2 schema errors' }).waitFor();
    await expect(marked.allTextContents()).resolves.toEqual(['70000', '"staging"']);
    await typeConfig(page, '{ "port": 8443, ');
    await status.filter({ hasText: 'Not a JSON object yet' }).waitFor();
    expect(await page.getByRole('button', { name: 'Publish version' }).isDisabled()).toBe(true);
    expect((await readProfile(rig.api, 'payments-api'))?.versions.totalCount).toBe(1);

    // Fixed: it publishes.
    await typeConfig(page, '{ "port": 8443, "mode": "test" }');
    await status.filter({ hasText: 'Valid against payments-config v1' }).waitFor();
    expect(await marked.count()).toBe(0);
    await page.getByRole('button', { name: 'Publish version' }).click();
    await page.getByRole('status').filter({ hasText: 'Published version 2.' }).waitFor();
    expect((await readVersion(rig.api, 'payments-api', 2))?.data).toEqual({ port: 8443, mode: 'test' });
  });

  it('lists profiles with search and service and environment filters kept in the address, and loads more pages', async () => {
    await createProfile(rig.api, 'orders-api', { service: 'orders', environment: Environment.DEVELOPMENT, description: 'Order intake' });
    await createProfile(rig.api, 'orders-worker', { service: 'orders', environment: Environment.STAGING, description: 'Queue consumer' });
    await createProfile(rig.api, 'orders-prod', { service: 'orders', environment: Environment.PRODUCTION, description: 'Live orders' });
    await createProfile(rig.api, 'search-index', { service: 'search', environment: Environment.STAGING, description: 'Index builder' });
    await publish(rig.api, 'orders-api', { retries: 3 });
    await publish(rig.api, 'orders-prod', { retries: 5 });

    const page = await rig.signedIn(Role.OPERATOR, 'olga');
    const names = () => firstCells(page, 'Profiles');
    await page.getByRole('table', { name: 'Profiles' }).waitFor();
    await expect.poll(names).toEqual(expect.arrayContaining(['orders-api', 'orders-worker', 'orders-prod', 'search-index', 'checkout-web']));
    await rig.screenshot(page, 'profiles');

    await page.getByLabel('Service').fill('orders');
    await expect.poll(names).toEqual(['orders-prod', 'orders-worker', 'orders-api']);
    await page.getByLabel('Environment').selectOption('STAGING');
    await expect.poll(names).toEqual(['orders-worker']);
    expect(page.url()).toBe(`${rig.origin}/profiles?service=orders&environment=STAGING`);
    await page.reload();
    await expect.poll(names).toEqual(['orders-worker']);

    await page.getByLabel('Environment').selectOption('');
    await page.getByLabel('Service').fill('');
    await page.getByLabel('Search').fill('queue');
    await expect.poll(names).toEqual(['orders-worker']);
    await page.getByLabel('Search').fill('nothing-like-this');
    await page.getByText('No profile matches “nothing-like-this”').waitFor();

    // 27 profiles of one service: 25 a page, then "Load more".
    for (let i = 0; i < 27; i++) await createProfile(rig.api, `bulk-${String(i).padStart(2, '0')}`, { service: 'bulk' });
    await page.goto(`${rig.origin}/profiles?service=bulk`);
    await expect.poll(async () => (await names()).length).toBe(25);
    await page.getByText('Showing 25 of 27 profiles').waitFor();
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(async () => (await names()).length).toBe(27);
    expect(new Set(await names()).size).toBe(27);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
  });

  it('an OPERATOR (no profile:write, no version:publish) is offered no create, edit or publish control', async () => {
    const page = await rig.signedIn(Role.OPERATOR, 'otto');
    await page.getByRole('table', { name: 'Profiles' }).waitFor();
    expect(await page.getByRole('link', { name: 'New profile' }).count()).toBe(0);
    await page.getByLabel('Service').fill('checkout');
    await page.getByRole('link', { name: 'checkout-web' }).click();
    await page.getByRole('table', { name: 'Versions' }).waitFor();
    expect(await page.getByRole('link', { name: 'Publish a new version' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Edit profile' }).count()).toBe(0);
    // Reading stays possible: the diff works for everyone.
    await page.getByRole('link', { name: 'Diff v1 to v2' }).click();
    await page.getByRole('table', { name: 'Changes' }).waitFor();
    // Typed addresses say why, and show no form.
    await page.goto(`${rig.origin}/profiles/checkout-web/publish`);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Your role (OPERATOR) may not publish versions');
    expect(await editorOf(page).count()).toBe(0);
    await page.goto(`${rig.origin}/profiles/new`);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('may not create profiles');
    expect(await page.getByRole('button', { name: 'Create profile' }).count()).toBe(0);

    // A DEVELOPER sees the controls the OPERATOR does not.
    const dev = await rig.signedIn(Role.DEVELOPER, 'dev');
    await dev.getByRole('link', { name: 'New profile' }).waitFor();
    await dev.getByLabel('Service').fill('checkout');
    await dev.getByRole('link', { name: 'checkout-web' }).click();
    await dev.getByRole('link', { name: 'Publish a new version' }).waitFor();
    await dev.getByRole('link', { name: 'Edit profile' }).waitFor();
  });

  it('a refused operation shows its code and message; editing binds a schema', async () => {
    const page = await rig.signedIn(Role.DEVELOPER, 'dora');
    await page.goto(`${rig.origin}/profiles/new`);
    await page.getByLabel('Name').fill('checkout-web');
    await page.getByLabel('Service').fill('checkout');
    await page.getByRole('button', { name: 'Create profile' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toMatch(/CONFLICT.*a profile named "checkout-web" already exists/);

    await page.getByLabel('Name').fill('Not A Slug');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await alert.filter({ hasText: 'BAD_USER_INPUT' }).waitFor();

    // Publishing the latest version's content again is refused by the server, shown with its code.
    await page.goto(`${rig.origin}/profiles/checkout-web/publish`);
    await page.getByTestId('check-status').filter({ hasText: 'Valid JSON object.' }).waitFor();
    await page.getByRole('button', { name: 'Publish version' }).click();
    await page.getByRole('alert').filter({ hasText: 'Publishing refused' }).waitFor();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/CONFLICT/);

    // A missing profile is said so, not a blank page.
    await page.goto(`${rig.origin}/profiles/no-such-profile`);
    await expect(page.getByRole('alert').textContent()).resolves.toContain('No profile named “no-such-profile”');

    // Edit: bind the payments schema to checkout-web.
    await page.goto(`${rig.origin}/profiles/checkout-web/edit`);
    await page.getByLabel('Schema').selectOption({ label: 'payments-config v1 (DRAFT)' });
    await page.getByLabel('Description').fill('Checkout front end, validated');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { name: 'checkout-web', level: 1 }).waitFor();
    const facts = await page.locator('.facts').textContent();
    expect(facts).toContain('payments-config v1');
    expect(facts).toContain('Checkout front end, validated');
  });

  it('is usable on a narrow window: the list, the editor and the diff fit without sideways scrolling of the page', async () => {
    const page = await rig.signedIn(Role.DEVELOPER, 'nia', { width: 420, height: 800 });
    const overflow = () => page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;
    await page.getByRole('table', { name: 'Profiles' }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.goto(`${rig.origin}/profiles/checkout-web/diff?from=1&to=2`);
    await page.getByRole('table', { name: 'Changes' }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.goto(`${rig.origin}/profiles/payments-api/publish`);
    await editorOf(page).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: 'Publish version' }).scrollIntoViewIfNeeded();
    expect(await page.getByRole('button', { name: 'Publish version' }).isVisible()).toBe(true);
  });
});
