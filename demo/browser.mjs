// Headless Chromium from the distribution's `chromium` package, driven by playwright-core (which never
// downloads a browser). Shared by the demo's browser test and `npm run screenshots`.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium reaches for Google's services at start, and a
// closed network refuses it; --no-sandbox because CI runs as root.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const chromiumPresent = () => existsSync(CHROMIUM);

/**
 * A fresh browser with its own profile folder, and one page of `width` x `height`. close() removes the
 * profile too.
 */
export async function openBrowser({ width = 1200, height = 800 } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'phonegate-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width, height },
      deviceScaleFactor: 1,
      timezoneId: 'America/Los_Angeles',
      locale: 'en-US',
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
