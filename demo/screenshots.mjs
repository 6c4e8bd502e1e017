// `npm run screenshots`: the README's pictures, taken of the real thing. Starts the demo (as `npm run
// demo` does), drives its page in headless Chromium with the browser test's own steps (drive.mjs),
// and writes docs/images/login.png, admin-step-up.png and home.png (1200 x 800). SCREENSHOTS_DIR writes
// them elsewhere.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, chromiumPresent, openBrowser } from './browser.mjs';
import { Demo } from './demo.mjs';
import { DemoPage, latestKey, logIn } from './drive.mjs';
import { PEOPLE } from './people.mjs';

const OUT = process.env.SCREENSHOTS_DIR ?? fileURLToPath(new URL('../docs/images/', import.meta.url));
const admin = PEOPLE.find((p) => p.admin);
const member = PEOPLE.find((p) => !p.admin);

if (!chromiumPresent()) {
  process.stderr.write(
    `${CHROMIUM} is missing: install the distribution's chromium package (apt-get install chromium).\n`,
  );
  process.exit(1);
}
mkdirSync(OUT, { recursive: true });

const demo = new Demo({ port: 0 });
let browser;
try {
  await demo.start();
  browser = await openBrowser({ width: 1200, height: 800 });
  const page = new DemoPage(browser.page, demo.url);
  await page.open();
  const shot = async (name) => {
    await browser.page.screenshot({ path: join(OUT, name) });
    process.stdout.write(`wrote ${join(OUT, name)}\n`);
  };

  // login.png: a member's code-entry window, the text with the code on their phone beside it.
  await page.as(member.id);
  await page.inChannel('C0DEMOGEN');
  const before = await latestKey(page, member.id);
  await page.type('/login');
  await page.waitForModal({ callbackId: 'delivery_choice' });
  await page.chooseDelivery('Text message');
  await page.waitForModal({ callbackId: 'code_entry' });
  const { code } = await page.newestCode(member.id, before);
  await browser.page.locator('#modal-layer input.text-input').fill(code);
  await shot('login.png');
  await browser.page.locator('#modal-layer .modal-submit').click();
  await page.waitForModal({ text: /logged in/ });
  await page.closeModal();
  await page.type('/whoami');
  await page.waitForMessage(/Scopes:/);

  // admin-step-up.png: the admin, logged in by voice call, asks for /admin sessions: the step-up window.
  await logIn(page, admin.id, { delivery: 'Voice call' });
  await page.closeModal();
  const beforeStepUp = await latestKey(page, admin.id);
  await page.type('/admin sessions');
  await page.waitForModal({ callbackId: 'code_entry', text: 'Admin step-up' });
  const { code: stepUpCode } = await page.newestCode(admin.id, beforeStepUp);
  await browser.page.locator('#modal-layer input.text-input').fill(stepUpCode);
  await shot('admin-step-up.png');
  await browser.page.locator('#modal-layer .modal-submit').click();
  await page.waitForModal({ text: /unlocked/ });
  await page.closeModal();
  await page.waitForMessage(/Live sessions|sessions/i);
  await page.type('/deploy api 1.4.2');
  await page.endpointReceived(1);
  await page.waitForMessage(/Deployed/);

  // home.png: the member's App Home tab.
  await page.as(member.id);
  await page.openHome();
  await shot('home.png');
} finally {
  await browser?.close();
  await demo.stop();
}
