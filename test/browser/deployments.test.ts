import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { type ConsoleRig, startConsoleRig } from '../support/console.js';
import { type Fleet, HEALTHY, readDeployment } from '../support/fleet.js';
import { DEGRADED, fleetOnVersion1, runProgressive } from '../support/progressive.js';
import { DEPLOYMENT_RIG_ENV, markDocument, openDeployment, sameDocument, snapshot, untilStatus, watch } from './deployments-support.js';

describe('console: deployments, started and followed live', () => {
  let rig: ConsoleRig;
  const fleets: Fleet[] = [];
  beforeAll(async () => {
    rig = await startConsoleRig(DEPLOYMENT_RIG_ENV);
  });
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await rig?.stop();
  });

  it('starts a canary from the form: the plan preview gives its phases and sizes, then the page follows phases and acks live, without a reload', async () => {
    const { f } = await fleetOnVersion1(rig.api, 'ui-canary', { count: 4, fleets, metricsOf: () => HEALTHY });
    // Version 2 is applied 400 ms after it arrives: the acks land one by one.
    for (const i of f.instances) i.delayMs = 400;
    const page = await rig.signedIn(Role.OPERATOR, 'olga');
    await page.getByRole('link', { name: 'Deployments' }).click();
    await page.getByRole('link', { name: 'Start a deployment' }).click();
    await page.getByLabel('Profile', { exact: true }).selectOption('ui-canary');
    expect(await page.getByLabel('Version').inputValue()).toBe('2');
    await page.getByLabel('Strategy').selectOption('CANARY');
    await page.getByLabel('Phases (% of instances)').fill('25, 50, 100');
    await page.getByLabel('Bake (s)').fill('2');
    await page.getByLabel('Ack timeout (s)').fill('5');

    const summary = page.getByTestId('plan-summary');
    await summary.filter({ hasText: '4 connected instances in 3 phases' }).waitFor();
    expect(await page.locator('.plan-phase-size').allTextContents()).toEqual(['1 instance', '1 instance', '2 instances']);
    expect(await page.getByTestId('planned-phase').first().textContent()).toContain('observed 2 s');

    await page.getByRole('button', { name: 'Start deployment' }).click();
    await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').at(-1)!;
    await markDocument(page);

    // The screenshot of a live canary: the last phase baking, two verdicts in and charted.
    let shot = false;
    const seen = await watch(page, (s) => s.status === 'COMPLETED', 40_000, async (s) => {
      if (shot || s.phases[2] !== 'current' || s.verdicts < 2) return;
      shot = true;
      await page.getByTestId('chart-errorRate').locator('canvas').waitFor();
      await rig.screenshot(page, 'deployment-live');
    });
    expect(shot).toBe(true);
    // The track moved phase by phase: a moment with phase 1 done and phase 3 still to come, then all done.
    expect(seen.some((s) => s.phases[0] === 'done' && s.phases[2] === 'waiting')).toBe(true);
    expect(seen.some((s) => s.phases[1] === 'current')).toBe(true);
    expect(seen.at(-1)!.phases).toEqual(['done', 'done', 'done']);
    // Target states changed under our eyes: some applied while others still waited, then all applied.
    const applied = (s: { targets: string[] }) => s.targets.filter((t) => t === 'APPLIED').length;
    expect(seen.some((s) => s.targets.length === 4 && applied(s) > 0 && applied(s) < 4)).toBe(true);
    expect(seen.at(-1)!.targets).toEqual(['APPLIED', 'APPLIED', 'APPLIED', 'APPLIED']);
    expect(seen.at(-1)!.events).toContain('COMPLETED');
    expect(await sameDocument(page)).toBe(true);

    // The preview's sizes are what the deployment did.
    const d = (await readDeployment(rig.api, id))!;
    expect(d.status).toBe('COMPLETED');
    expect([1, 2, 3].map((p) => d.targets.filter((t) => t.phase === p).length)).toEqual([1, 1, 2]);
    expect(d.startedBy).toBe('olga');
    await page.getByTestId('health').getByText('PASS').first().waitFor();
  });

  it('a canary whose updated instances degrade shows the FAIL verdict with its reasons and ends ROLLED_BACK on screen', async () => {
    const run = await runProgressive(rig.api, 'ui-degrade', 5, {
      strategy: 'CANARY',
      input: { canary: { phases: [0.2, 0.6, 1], bakeSeconds: 2 } },
      // Phase 1's instance stays healthy; phase 2's go bad once on version 2.
      metricsOf: (i, p) => (i.appliedVersion() === 2 && (p.of(i.id) ?? 0) >= 2 ? DEGRADED : HEALTHY),
      wait: false,
      fleets,
    });
    const page = await rig.signedIn(Role.ADMIN, 'ada');
    await openDeployment(rig, page, run.started.id);
    await markDocument(page);
    await untilStatus(page, 'ROLLED_BACK', 40_000);

    const health = page.getByTestId('health');
    await health.locator('.verdict-line').getByText('FAIL').waitFor();
    const reasons = await health.getByRole('list', { name: 'Reasons' }).first().textContent();
    expect(reasons).toMatch(/error rate/);
    expect(await page.getByTestId('outcome-reason').textContent()).toMatch(/Rollback reason:.*phase 2 of 3: health degraded: error rate/);
    // The metrics of the verdict: error rate, canary against control, FAIL.
    const errorRow = page.getByRole('table', { name: 'Metrics of the latest verdict' }).getByRole('row').filter({ hasText: 'errorRate' }).first();
    expect(await errorRow.textContent()).toMatch(/FAIL/);
    // The earlier verdict (phase 1) passed.
    await health.getByText('1 earlier verdict').click();
    await health.locator('.verdict-history').getByText('PASS').waitFor();
    // The chart plots canary against control per check.
    await page.getByTestId('chart-errorRate').locator('canvas').waitFor();
    expect(await page.getByTestId('chart-errorRate').getAttribute('aria-label')).toMatch(/^errorRate: canary 30\s% against control 1\s%/);
    expect((await snapshot(page)).events).toEqual(expect.arrayContaining(['ROLLBACK_STARTED', 'ROLLED_BACK', 'HEALTH_CHECKED']));
    expect(await sameDocument(page)).toBe(true);
    await health.getByText('1 earlier verdict').click();
    await page.evaluate('window.scrollTo(0, 0)');
    await rig.screenshot(page, 'deployment-rolled-back');
    await run.f.stop();
  });

  it('lists deployments with status and outcome, filters by status, and opens one', async () => {
    const page = await rig.signedIn(Role.OPERATOR, 'olga');
    await page.goto(`${rig.origin}/deployments`);
    const table = page.getByRole('table', { name: 'Deployments' });
    await table.waitFor();
    const degraded = table.getByRole('row').filter({ hasText: 'ui-degrade' }).filter({ hasText: '1 → 2' });
    expect(await degraded.textContent()).toMatch(/ROLLED BACK.*FAIL.*health degraded/);
    expect(await table.getByRole('row').filter({ hasText: 'ui-canary' }).filter({ hasText: '1 → 2' }).textContent()).toMatch(/COMPLETED.*PASS/);
    await rig.screenshot(page, 'deployments');

    await page.getByLabel('Status').selectOption('ROLLED_BACK');
    await table.getByRole('row').filter({ hasText: 'ui-canary' }).first().waitFor({ state: 'detached' });
    const rows = await table.locator('tbody tr').allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.includes('ROLLED BACK'))).toBe(true);
    await degraded.getByRole('link').click();
    await untilStatus(page, 'ROLLED_BACK');
    expect(page.url()).toMatch(/\/deployments\/[0-9a-f-]{36}$/);

    // On a narrow window the live page reflows to one column: nothing wider than the window.
    const narrow = await rig.signedIn(Role.OPERATOR, 'olga', { width: 420, height: 800 });
    await openDeployment(rig, narrow, page.url().split('/').at(-1)!);
    await narrow.getByTestId('chart-errorRate').locator('canvas').waitFor();
    expect(await narrow.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
  });
});
