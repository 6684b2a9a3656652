import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { Role } from '../../src/domain/enums.js';
import { sessionToken } from '../support/browser.js';
import { type ConsoleRig, startConsoleRig } from '../support/console.js';
import { TEST_SECRET } from '../support/server.js';

describe('console: signing in', () => {
  let rig: ConsoleRig;
  beforeAll(async () => {
    rig = await startConsoleRig();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('serves the console at / from the service itself: every request the page makes goes to its own origin', async () => {
    const { page } = await rig.browser.newPage();
    const hosts = new Set<string>();
    page.on('request', (r) => void hosts.add(new URL(r.url()).origin));
    const res = await page.goto(rig.origin);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("default-src 'self'");
    await page.getByLabel('Token').waitFor();
    expect([...hosts]).toEqual([rig.origin]);
  });

  it('signs in with a pasted token, shows who and which role, and keeps the token only in the tab', async () => {
    const page = await rig.signedIn(Role.OPERATOR, 'olivia');
    await expect(page.getByTestId('viewer').textContent()).resolves.toBe('olivia · OPERATOR');
    expect(page.url()).toBe(`${rig.origin}/profiles`);
    expect(page.url()).not.toContain('ey');
    const stored = await sessionToken(page);
    expect(stored).toMatch(/^ey/);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    // A reload keeps the session; signing out ends it.
    await page.reload();
    await page.getByTestId('viewer').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    expect(await sessionToken(page)).toBeNull();
  });

  it('a refused token shows the refusal with its code, not a blank page', async () => {
    const { page } = await rig.browser.newPage();
    await page.goto(rig.origin);
    await page.getByLabel('Token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await expect(alert.textContent()).resolves.toMatch(/UNAUTHENTICATED/);
    expect(await sessionToken(page)).toBeNull();
  });

  it('goes back to sign-in, saying why, when the token expires during the session', async () => {
    const { page } = await rig.browser.newPage();
    await page.goto(rig.origin);
    await page.getByLabel('Token').fill(await mintToken(TEST_SECRET, { sub: 'brief', role: Role.DEVELOPER, expiresInSeconds: 3 }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('viewer').waitFor();
    await new Promise((resolve) => setTimeout(resolve, 3500));
    await page.getByRole('link', { name: 'Instances' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 10_000 });
    expect(await alert.textContent()).toMatch(/UNAUTHENTICATED.*expired/);
    await page.getByLabel('Token').waitFor();
    expect(await sessionToken(page)).toBeNull();
  });

  it('is usable on a narrow window: the sections stay reachable', async () => {
    const page = await rig.signedIn(Role.ADMIN, 'ada', { width: 420, height: 800 });
    await page.getByRole('link', { name: 'Deployments' }).click();
    expect(page.url()).toBe(`${rig.origin}/deployments`);
  });
});
