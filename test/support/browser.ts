import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium package (browsers cannot be downloaded here); .ci/run installs it. */
export const CHROMIUM = process.env.HOTSWAP_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags a closed network needs: without the background-networking ones,
 * Chromium keeps trying Google's hosts and has its connections refused.
 */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface TestBrowser {
  browser: Browser;
  /**
   * A fresh context (its own session storage) and page at 1280×800, or `viewport`.
   * `bypassCSP` lets a test inject a checker (axe) into the console's pages.
   */
  newPage(viewport?: { width: number; height: number }, options?: { bypassCSP?: boolean }): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/** Launches headless Debian chromium (Playwright gives it an empty profile of its own). */
export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium package (apt-get install -y chromium), or set HOTSWAP_CHROMIUM`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  return {
    browser,
    async newPage(viewport = { width: 1280, height: 800 }, options = {}) {
      const context = await browser.newContext({ viewport, bypassCSP: options.bypassCSP ?? false });
      const page = await context.newPage();
      return { context, page };
    },
    close: () => browser.close(),
  };
}

/** The console's session token in `page`'s tab (sessionStorage), or null. */
export function sessionToken(page: Page): Promise<string | null> {
  return page.evaluate('sessionStorage.getItem("hotswap.token")') as Promise<string | null>;
}
