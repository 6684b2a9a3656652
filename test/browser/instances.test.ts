import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { createProfile, ok, publish } from '../support/api.js';
import { type ConsoleRig, startConsoleRig } from '../support/console.js';
import { deployAndWait, type SimInstance, startInstance } from '../support/fleet.js';
import { pollUntil } from '../support/wait.js';

/** What the checkout instances report on every heartbeat. */
const METRICS = { errorRate: 0.02, latencyP99Ms: 120, requestCount: 5400, custom: { queueDepth: 3 } };

describe('console: instances', () => {
  let rig: ConsoleRig;
  const fleet: SimInstance[] = [];
  const timers: NodeJS.Timeout[] = [];
  let gone: SimInstance;

  /** Heartbeats every 300 ms (the rig expects one a second and marks an instance STALE after three missed). */
  const keepBeating = (i: SimInstance, metrics?: typeof METRICS) => timers.push(setInterval(() => void i.heartbeat(metrics).catch(() => undefined), 300));

  beforeAll(async () => {
    rig = await startConsoleRig({ HOTSWAP_HEARTBEAT_INTERVAL_MS: '1000' });
    // Two services in two environments each; checkout STAGING runs v1 of its profile.
    await createProfile(rig.api, 'checkout-staging', { service: 'checkout', environment: Environment.STAGING });
    await publish(rig.api, 'checkout-staging', { currency: 'EUR' });
    // Each heartbeats from the start (the checkout STAGING pair with metrics), but search-dev.
    const start = async (service: string, environment: Environment, host: string, o: { color?: 'BLUE' | 'GREEN'; metrics?: typeof METRICS; silent?: boolean } = {}) => {
      const i = await startInstance(rig.api, { service, environment, host, color: o.color });
      fleet.push(i);
      if (!o.silent) keepBeating(i, o.metrics);
      return i;
    };
    await start('checkout', Environment.STAGING, 'checkout-blue', { color: 'BLUE', metrics: METRICS });
    await start('checkout', Environment.STAGING, 'checkout-green', { color: 'GREEN', metrics: METRICS });
    await start('checkout', Environment.PRODUCTION, 'checkout-prod');
    await start('search', Environment.STAGING, 'search-1');
    gone = await start('search', Environment.DEVELOPMENT, 'search-dev', { silent: true });
    expect((await deployAndWait(rig.api, 'checkout-staging', 1)).status).toBe('COMPLETED');
    // search-dev closes its connection and stops heartbeating: not connected, then STALE.
    await gone.close();
    await pollUntil(
      async () => ok(await rig.api.gql<{ instance: { connected: boolean; status: string } }>('query($id: ID!) { instance(id: $id) { connected status } }', { id: gone.id })).instance,
      (i) => !i.connected && i.status === 'STALE',
      { timeoutMs: 15_000, intervalMs: 200, what: 'search-dev to be disconnected and STALE' },
    );
  });
  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    await Promise.allSettled(fleet.map((i) => i.close()));
    await rig?.stop();
  });

  const rowOf = (page: Page, host: string): Locator => page.locator(`tr[data-host="${host}"]`);
  /** The row's cells after the host: status, color, connected, assigned, applied, last heartbeat, metrics. */
  const cells = async (row: Locator) => (await row.getByRole('cell').allTextContents()).map((t) => t.trim());
  const visibleHosts = async (page: Page) => (await Promise.all((await page.locator('tr[data-host]').all()).map((r) => r.getAttribute('data-host')))).sort();

  async function openInstances(page: Page): Promise<void> {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Instances' }).click();
    await page.getByTestId('instance-summary').waitFor();
  }

  it('an OPERATOR sees each instance per service and environment: status, color, assigned and applied version, heartbeat, metrics, connected', async () => {
    const page = await rig.signedIn(Role.OPERATOR, 'olivia');
    await openInstances(page);
    expect(await page.getByTestId('instance-summary').textContent()).toMatch(/^5 instances · 4 connected · 1 not connected · 4 service\/environment groups/);
    expect(await page.getByText(/Refreshes every 5 s \(polling/).count()).toBe(1);
    for (const group of ['checkout · STAGING', 'checkout · PRODUCTION', 'search · DEVELOPMENT', 'search · STAGING']) {
      expect(await page.getByRole('region', { name: group }).count(), group).toBe(1);
    }
    const staging = page.getByRole('region', { name: 'checkout · STAGING' });
    expect(await staging.textContent()).toContain('Assigned: checkout-staging v1');

    const blue = await cells(rowOf(page, 'checkout-blue'));
    expect(blue.slice(0, 5)).toEqual(['HEALTHY', 'BLUE', 'yes', 'checkout-staging v1', expect.stringMatching(/^checkout-staging v1.*reload 7\.5 ms$/)]);
    expect(blue[5]).toMatch(/\d+ s ago$/);
    expect(blue[6]).toBe('errors2.00 %p99120 msrequests5400queueDepth3');
    expect((await cells(rowOf(page, 'checkout-green'))).slice(1, 3)).toEqual(['GREEN', 'yes']);
    // The heartbeat shown is the registry's (the tooltip and datetime hold its ISO time).
    const shown = await rowOf(page, 'checkout-blue').locator('time').first().getAttribute('datetime');
    expect(Date.now() - new Date(shown ?? 0).getTime()).toBeLessThan(15_000);

    const dev = await cells(rowOf(page, 'search-dev'));
    expect(dev.slice(0, 4)).toEqual(['STALE', '—', 'no', '—']);
    expect(dev[6]).toBe('none reported');
    const prod = await cells(rowOf(page, 'checkout-prod'));
    expect(prod.slice(0, 3)).toEqual(['HEALTHY', '—', 'yes']);
    await rig.screenshot(page, 'instances');
  });

  it('the filters narrow the list, and stay in the address', async () => {
    const page = await rig.signedIn(Role.OPERATOR, 'olivia');
    await openInstances(page);
    const summary = page.getByTestId('instance-summary');
    await page.getByLabel('Service').selectOption('search');
    await summary.filter({ hasText: /^2 instances/ }).waitFor();
    expect(await visibleHosts(page)).toEqual(['search-1', 'search-dev']);
    expect(page.url()).toBe(`${rig.origin}/instances?service=search`);
    await page.getByLabel('Environment').selectOption('DEVELOPMENT');
    await summary.filter({ hasText: /^1 instance ·/ }).waitFor();
    expect(await visibleHosts(page)).toEqual(['search-dev']);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await summary.filter({ hasText: /^5 instances/ }).waitFor();
    await page.getByLabel('Environment').selectOption('STAGING');
    await summary.filter({ hasText: /^3 instances/ }).waitFor();
    expect(await visibleHosts(page)).toEqual(['checkout-blue', 'checkout-green', 'search-1']);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.getByLabel('Connected').selectOption('no');
    await summary.filter({ hasText: /^1 instance ·/ }).waitFor();
    expect(await visibleHosts(page)).toEqual(['search-dev']);
    await page.getByLabel('Connected').selectOption('');
    await page.getByLabel('Status').selectOption('HEALTHY');
    await summary.filter({ hasText: /^4 instances/ }).waitFor();
    // A reload keeps the filters the address holds.
    await page.reload();
    await summary.filter({ hasText: /^4 instances/ }).waitFor();
    expect(await page.getByLabel('Status').inputValue()).toBe('HEALTHY');
  });

  it('updates itself: an instance that registers while the page is open shows up without a click', async () => {
    const page = await rig.signedIn(Role.DEVELOPER, 'dana');
    await openInstances(page);
    await page.getByTestId('instance-summary').filter({ hasText: /^5 instances/ }).waitFor();
    const late = await startInstance(rig.api, { service: 'search', environment: Environment.STAGING, host: 'search-late' });
    fleet.push(late);
    keepBeating(late);
    await rowOf(page, 'search-late').waitFor({ timeout: 12_000 });
    expect((await cells(rowOf(page, 'search-late'))).slice(0, 3)).toEqual(['HEALTHY', '—', 'yes']);
    expect(await page.getByTestId('instance-summary').textContent()).toMatch(/^6 instances · 5 connected/);
  });

  it('is usable on a narrow window: each instance is a card of labelled fields, nothing scrolls sideways', async () => {
    const page = await rig.signedIn(Role.OPERATOR, 'olivia', { width: 420, height: 800 });
    await openInstances(page);
    await page.getByLabel('Service').selectOption('checkout');
    await page.getByTestId('instance-summary').filter({ hasText: /^3 instances/ }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    const connected = rowOf(page, 'checkout-blue').locator('td[data-label="Connected"]');
    expect(await connected.isVisible()).toBe(true);
    // The label comes from the cell's data-label (CSS ::before), as the column header does on a wide window.
    type Styles = { getComputedStyle(e: unknown, pseudo: string): { content: string } };
    expect(await connected.evaluate((td) => (globalThis as unknown as Styles).getComputedStyle(td, '::before').content)).toBe('"Connected"');
  });
});
