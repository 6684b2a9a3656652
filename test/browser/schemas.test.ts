import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { approvedSchema, createProfile, ok, publish } from '../support/api.js';
import { type ConsoleRig, startConsoleRig } from '../support/console.js';
import { LIST, REGISTER, SUBMIT, type SchemaShape } from '../support/schemas.js';

/** v1 of orders-config (approved in setup) and v2, which a developer registers in the console. */
const V1 = { type: 'object', properties: { timeoutMs: { type: 'integer' } } };
const V2 = { type: 'object', properties: { timeoutMs: { type: 'integer', maximum: 1000 }, region: { type: 'string' } }, required: ['region'] };

describe('console: schemas', () => {
  let rig: ConsoleRig;
  const schemasNamed = async (name: string) => ok(await rig.api.gql<{ schemas: SchemaShape[] }>(LIST, {})).schemas.filter((s) => s.name === name);

  beforeAll(async () => {
    rig = await startConsoleRig();
    // A profile bound to orders-config v1 whose config v2 would refuse (no region, timeout above the new maximum).
    const v1 = await approvedSchema(rig.api, V1, 'orders-config');
    await createProfile(rig.api, 'orders-web', { service: 'orders', environment: Environment.STAGING, schemaId: v1 });
    await publish(rig.api, 'orders-web', { timeoutMs: 5000 });
  });
  afterAll(async () => {
    await rig?.stop();
  });

  async function openSchemas(page: Page): Promise<void> {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Schemas' }).click();
    await page.getByRole('heading', { name: /^Approval queue/ }).waitFor();
  }

  it('a DEVELOPER registers and submits a schema from the UI, and is offered no approve button', async () => {
    const page = await rig.signedIn(Role.DEVELOPER, 'dana');
    await openSchemas(page);
    await page.getByRole('link', { name: 'Register a schema' }).click();
    await page.getByLabel('Name', { exact: true }).fill('orders-config');
    await page.getByLabel('Description (optional)').fill('region becomes required');
    await page.getByLabel(/^JSON Schema/).fill(JSON.stringify(V2, null, 2));
    await page.getByRole('button', { name: 'Register as draft' }).click();
    // The new version's page: a DRAFT, v2 of the name.
    await page.getByRole('heading', { name: /orders-config v2/ }).waitFor();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('DRAFT');
    expect(page.url()).toMatch(new RegExp(`^${rig.origin}/schemas/[0-9a-f-]{36}$`));
    await page.getByRole('button', { name: 'Submit for approval' }).click();
    await page.getByRole('heading', { level: 1 }).filter({ hasText: 'PENDING APPROVAL' }).waitFor();
    await page.getByText('Waiting for an ADMIN to approve or reject it.').waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Reject' }).count()).toBe(0);
    // In the queue too: the report is there for everyone, the decision is not.
    await openSchemas(page);
    const item = page.getByRole('article', { name: 'Pending orders-config v2' });
    await item.waitFor();
    expect(await item.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    const [stored] = (await schemasNamed('orders-config')).filter((s) => s.schemaVersion === 2);
    expect(stored).toMatchObject({ status: 'PENDING_APPROVAL', createdBy: 'dana', submittedBy: 'dana', description: 'region becomes required' });
  });

  it('an ADMIN reads the compatibility report in the approval queue, naming the profile that would stop validating, and approves with a comment', async () => {
    const page = await rig.signedIn(Role.ADMIN, 'ada');
    await openSchemas(page);
    const item = page.getByRole('article', { name: 'Pending orders-config v2' });
    await item.waitFor();
    const report = item.getByRole('region', { name: 'Compatibility report of orders-config v2' });
    const text = (await report.textContent()) ?? '';
    expect(text).toContain('BREAKING');
    expect(text).toContain('Compared with approved v1');
    expect(await report.getByTestId('would-stop-validating').textContent()).toMatch(/Would stop validating:.*orders-web \((active|latest) v1\)/);
    // The breaking changes, by path: region newly required, timeoutMs given a maximum.
    const changes = report.getByRole('table', { name: /Breaking changes/ });
    expect(await changes.textContent()).toContain('/region');
    expect(await changes.textContent()).toContain('/timeoutMs');
    const profileRow = report.getByRole('row').filter({ hasText: 'orders-web' }).first();
    expect(await profileRow.textContent()).toMatch(/FAIL.*would stop validating/);
    await rig.screenshot(page, 'schemas');

    await item.getByLabel('Comment (approval) or reason (rejection)').fill('orders-web gets a region before the next deploy');
    await item.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('No schema is waiting for approval.').waitFor();
    const row = page.getByRole('table', { name: 'Schemas' }).getByRole('row').filter({ hasText: 'orders-config v2' });
    expect(await row.textContent()).toContain('APPROVED');
    await row.getByRole('link', { name: 'orders-config v2' }).click();
    const decision = page.getByTestId('decision');
    await decision.filter({ hasText: 'Approved by ada' }).waitFor();
    expect(await decision.textContent()).toContain('orders-web gets a region before the next deploy');
    const [stored] = (await schemasNamed('orders-config')).filter((s) => s.schemaVersion === 2);
    expect(stored).toMatchObject({ status: 'APPROVED', approvedBy: 'ada', decisionComment: 'orders-web gets a region before the next deploy' });
  });

  it('an ADMIN rejects with a reason (and is asked for one when it is missing)', async () => {
    const dev = await rig.token(Role.DEVELOPER, 'dana');
    const id = ok(await rig.api.gql<{ registerSchema: SchemaShape }>(REGISTER, { input: { name: 'billing-config', schema: { type: 'object' } } }, dev)).registerSchema.id;
    ok(await rig.api.gql(SUBMIT, { id }, dev));
    const page = await rig.signedIn(Role.ADMIN, 'ada');
    await openSchemas(page);
    const item = page.getByRole('article', { name: 'Pending billing-config v1' });
    await item.waitFor();
    expect(await item.textContent()).toContain('No earlier approved version to compare with.');
    await item.getByRole('button', { name: 'Reject' }).click();
    await item.getByRole('alert').filter({ hasText: 'A rejection needs a reason.' }).waitFor();
    await item.getByLabel('Comment (approval) or reason (rejection)').fill('billing needs a currency field');
    await item.getByRole('button', { name: 'Reject' }).click();
    await item.waitFor({ state: 'detached' });
    const row = page.getByRole('table', { name: 'Schemas' }).getByRole('row').filter({ hasText: 'billing-config v1' });
    expect(await row.textContent()).toMatch(/REJECTED.*ada: billing needs a currency field/);
    const [stored] = await schemasNamed('billing-config');
    expect(stored).toMatchObject({ status: 'REJECTED', rejectedBy: 'ada', decisionComment: 'billing needs a currency field' });
  });

  it('a bad schema is refused with its code: JSON that does not parse, and JSON that is no JSON Schema', async () => {
    const page = await rig.signedIn(Role.DEVELOPER, 'dana');
    await openSchemas(page);
    await page.getByRole('link', { name: 'Register a schema' }).click();
    await page.getByLabel('Name', { exact: true }).fill('broken-config');
    const editor = page.getByLabel(/^JSON Schema/);
    await editor.fill('{ "type": "object", }');
    await page.getByText(/^Not valid JSON:/).waitFor();
    expect(await editor.getAttribute('aria-invalid')).toBe('true');
    await page.getByRole('button', { name: 'Register as draft' }).click();
    const notJson = page.getByRole('alert').filter({ hasText: 'INVALID_JSON' });
    await notJson.waitFor();
    expect(await notJson.textContent()).toMatch(/Not registered\s*INVALID_JSON.*not sent/);
    // Valid JSON, but `type` names no JSON type: the server refuses it.
    await editor.fill('{ "type": "nonsense" }');
    await page.getByRole('button', { name: 'Register as draft' }).click();
    const refused = page.getByRole('alert').filter({ hasText: 'BAD_USER_INPUT' });
    await refused.waitFor();
    expect(await refused.textContent()).toMatch(/Not registered\s*BAD_USER_INPUT/);
    expect(await notJson.count()).toBe(0);
    expect(page.url()).toBe(`${rig.origin}/schemas/new`);
    expect(await schemasNamed('broken-config')).toEqual([]);
  });

  it('an OPERATOR reads schemas but is offered neither register nor decisions, and the page works on a narrow window', async () => {
    const page = await rig.signedIn(Role.OPERATOR, 'olivia', { width: 420, height: 800 });
    await openSchemas(page);
    await page.getByRole('table', { name: 'Schemas' }).waitFor();
    expect(await page.getByRole('link', { name: 'Register a schema' }).count()).toBe(0);
    await page.getByLabel('Status').selectOption('REJECTED');
    const rows = page.getByRole('table', { name: 'Schemas' }).getByRole('row');
    expect(await rows.count()).toBe(2); // the header and billing-config v1
    expect(await rows.nth(1).textContent()).toContain('billing-config v1');
    // Wider than the window only inside its scroll box: the page itself does not scroll sideways.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
  });
});
