import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, sessionToken, type TestBrowser } from '../support/browser.js';
import { type ServiceProcess, spawnService } from '../support/process.js';
import { freePort } from '../support/prometheus.js';

/** The embedded default (no DATABASE_URL, no secret) prints a one-time sign-in link beside the ADMIN token. */
describe('console: the one-time sign-in link of the embedded default', () => {
  let dataDir: string;
  let service: ServiceProcess;
  let browser: TestBrowser;
  let link: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hotswap-console-embedded-'));
    const port = await freePort();
    service = spawnService({ HOTSWAP_DATA_DIR: dataDir, HOTSWAP_EMBEDDED_PG_PORT: String(await freePort()), PORT: String(port) });
    [, link] = (await service.waitFor(/Sign in:\s+(\S+)/, 90_000)) as unknown as [string, string];
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await service?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('signs in as the local ADMIN once, takes the code out of the address bar, and refuses the link the second time', async () => {
    expect(link).toMatch(/^http:\/\/localhost:\d+\/#sign-in=[A-Za-z0-9_-]{32}$/);
    const { page } = await browser.newPage();
    await page.goto(link);
    await page.getByTestId('viewer').waitFor();
    expect(await page.getByTestId('viewer').textContent()).toBe('local-admin · ADMIN');
    expect(page.url()).not.toContain('sign-in');
    expect(await sessionToken(page)).toMatch(/^ey/);

    const { page: again } = await browser.newPage();
    await again.goto(link);
    const alert = again.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/UNAUTHENTICATED.*sign-in link is not valid/);
    expect(again.url()).not.toContain('sign-in');

    // The code reached the server only in the request body: the banner is the one place it was written.
    const code = link.split('#sign-in=')[1]!;
    expect(service.output().split(code).length - 1).toBe(1);
  });
});
