import type { Page } from 'playwright-core';
import type { ConsoleRig } from '../support/console.js';

/**
 * What the deployments browser tests share: the service's settings, and reading
 * the live deployment page as its DOM shows it.
 */

/** No periodic health checks (a paused deployment must not change by itself); verdicts come at phase ends. */
export const DEPLOYMENT_RIG_ENV = { HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' };

export const GET_STATUS = 'query($id: ID!) { deployment(id: $id) { status } }';

/** What the live page shows at one moment. */
export interface Snapshot {
  status: string | null;
  /** data-state of each phase of the track: done, current, failed, waiting. */
  phases: string[];
  /** data-state of each target row (the target's state), by phase order. */
  targets: string[];
  events: string[];
  /** How many health verdicts the page shows. */
  verdicts: number;
}

const SNAPSHOT = `(() => ({
  status: document.querySelector('[data-testid=deployment-status]')?.textContent ?? null,
  phases: [...document.querySelectorAll('[data-testid^="phase-"]')].map((e) => e.getAttribute('data-state')),
  targets: [...document.querySelectorAll('[data-testid=target-row]')].map((e) => e.getAttribute('data-state')),
  events: [...document.querySelectorAll('[data-testid=event]')].map((e) => e.getAttribute('data-type')),
  verdicts: Number(document.querySelector('[data-testid=health]')?.getAttribute('data-count') ?? 0),
}))()`;

export const snapshot = (page: Page): Promise<Snapshot> => page.evaluate(SNAPSHOT) as Promise<Snapshot>;

/** Marks the document: a reload or navigation away loses the mark. */
export const markDocument = (page: Page): Promise<unknown> => page.evaluate('window.__sameDocument = true');
export const sameDocument = (page: Page): Promise<boolean> => page.evaluate('window.__sameDocument === true') as Promise<boolean>;

/** Opens the live page of deployment `id` in `page` (signed in already). */
export async function openDeployment(rig: ConsoleRig, page: Page, id: string): Promise<void> {
  await page.goto(`${rig.origin}/deployments/${id}`);
  await page.getByTestId('deployment-status').waitFor();
}

/** Waits until the page shows the deployment in `status` (as the badge spells it, e.g. ROLLED_BACK). */
export async function untilStatus(page: Page, status: string, timeout = 20_000): Promise<void> {
  const words = status.replace(/_/g, ' ');
  await page.getByTestId('deployment-status').filter({ hasText: new RegExp(`^${words}$`) }).waitFor({ timeout });
}

/** Collects snapshots every 150 ms (each handed to `onEach`) until `done` holds for one, or fails at the timeout. */
export async function watch(page: Page, done: (s: Snapshot) => boolean, timeoutMs = 30_000, onEach?: (s: Snapshot) => Promise<void>): Promise<Snapshot[]> {
  const seen: Snapshot[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await snapshot(page);
    seen.push(s);
    await onEach?.(s);
    if (done(s)) return seen;
    if (Date.now() > deadline) throw new Error(`the page never got there; last: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
