// The demo page driven as a person would use it (Playwright locators, each step waiting for what it
// needs). The browser test and `npm run screenshots` take the same steps, so the pictures show what
// the test checked.

/** How long a step waits for the page (a code's round trip is well under a second here). */
const STEP_MS = 15_000;

/** An element's text as the page shows it (Playwright's innerText), white space collapsed. */
export async function shownText(locator) {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, not the DOM's
  return (await locator.innerText({ timeout: STEP_MS })).replace(/\s+/g, ' ').trim();
}

export class DemoPage {
  /** @param {import('playwright-core').Page} page */
  constructor(page, url) {
    this.page = page;
    this.url = url;
  }

  async open() {
    await this.page.goto(this.url);
    await this.page.locator('#banner').waitFor({ timeout: STEP_MS });
    await this.page.locator('[data-person]').first().waitFor({ timeout: STEP_MS });
  }

  /** Becomes `personId` (the picker in the sidebar). */
  async as(personId) {
    await this.page.locator(`button.person[data-person="${personId}"]`).click();
    await this.page
      .locator(`button.person[data-person="${personId}"][aria-pressed="true"]`)
      .waitFor({ timeout: STEP_MS });
  }

  async inChannel(channelId) {
    await this.page.locator(`[data-channel="${channelId}"]`).click();
  }

  /** Types a message or slash command in the current conversation and sends it. */
  async type(text) {
    const input = this.page.locator('#composer-input');
    await input.fill(text);
    await input.press('Enter');
  }

  get modal() {
    return this.page.locator('#modal-layer .modal');
  }

  /** Waits for the open modal to be the one with this callback_id (or this text anywhere in it). */
  async waitForModal({ callbackId, text } = {}) {
    const modal = callbackId ? this.page.locator(`#modal-layer .modal[data-callback-id="${callbackId}"]`) : this.modal;
    await (text ? modal.filter({ hasText: text }) : modal).waitFor({ timeout: STEP_MS });
    return modal;
  }

  async modalText() {
    return shownText(this.modal);
  }

  /** In the delivery choice: picks the option whose label holds `label`, then submits. */
  async chooseDelivery(label) {
    await this.modal.locator('.radio', { hasText: label }).click();
    await this.modal.locator('.modal-submit').click();
  }

  /** How many texts and calls `personId`'s phone shows (it shows the last three, newest first). */
  arrivals(personId) {
    return this.page.locator(`.phone[data-person="${personId}"] .arrival[data-code]`);
  }

  /** The newest text or call on `personId`'s phone, once it differs from `previous`: its kind and the code in it. */
  async newestCode(personId, previous) {
    const newest = this.arrivals(personId).first();
    await this.page.waitForFunction(
      ({ selector, before }) => {
        const element = document.querySelector(selector);
        return element && element.getAttribute('data-key') !== before;
      },
      { selector: `.phone[data-person="${personId}"] .arrival[data-code]`, before: previous?.key ?? null },
      { timeout: STEP_MS },
    );
    const key = await newest.getAttribute('data-key');
    const kind = (await newest.getAttribute('class')).includes('call') ? 'call' : 'sms';
    // Read as a person reads it: the code set apart in the text (a call spells it digit by digit).
    const code = (await shownText(newest.locator('.code'))).replace(/\D/g, '');
    return { key, kind, code };
  }

  /** Types `code` into the open code entry and submits it. */
  async enterCode(code) {
    await this.modal.locator('input.text-input').fill(code);
    await this.modal.locator('.modal-submit').click();
  }

  async closeModal() {
    await this.modal.locator('.modal-close').click();
    await this.page.locator('#modal-layer').waitFor({ state: 'hidden', timeout: STEP_MS });
  }

  /** Waits for a message in the current conversation whose text matches, and returns its text. */
  async waitForMessage(pattern) {
    const message = this.page.locator('#conversation .message').filter({ hasText: pattern }).last();
    await message.waitFor({ timeout: STEP_MS });
    return shownText(message);
  }

  async openHome() {
    await this.page.locator('[data-app="phonegate"]').click();
    await this.page.locator('#tab-home[aria-selected="true"]').waitFor({ timeout: STEP_MS });
    await this.page.locator('#conversation .home').waitFor({ timeout: STEP_MS });
  }

  /** The newest request the /deploy endpoint received, once there are `count` of them. */
  async endpointReceived(count = 1) {
    await this.page.waitForFunction(
      (n) => Number(document.querySelector('#endpoint-list')?.dataset.count) >= n,
      count,
      { timeout: STEP_MS },
    );
    const latest = this.page.locator('#endpoint-list .received').first();
    const claims = {};
    for (const row of await latest.locator('tr[data-claim]').all())
      claims[await row.getAttribute('data-claim')] = await shownText(row.locator('td'));
    return {
      verified: (await latest.getAttribute('class')).includes('verified'),
      claims,
      body: JSON.parse(await latest.locator('pre.body').textContent()),
      answer: await latest.locator('pre.answer').textContent(),
    };
  }
}

/**
 * /login as `personId` by `delivery` ('Text message' or 'Voice call', as the delivery choice words
 * them), optionally entering a wrong code first. Returns the text of the wrong code's refusal and
 * of the final window.
 */
export async function logIn(demo, personId, { delivery = 'Text message', wrongFirst = false } = {}) {
  await demo.as(personId);
  await demo.inChannel('C0DEMOGEN');
  const before = await latestKey(demo, personId);
  await demo.type('/login');
  await demo.waitForModal({ callbackId: 'delivery_choice' });
  await demo.chooseDelivery(delivery);
  const entry = await demo.waitForModal({ callbackId: 'code_entry' });
  const { code } = await demo.newestCode(personId, before);
  let refusal;
  if (wrongFirst) {
    await demo.enterCode(wrongCode(code));
    refusal = await shownText(entry.locator('.input-error'));
  }
  await demo.enterCode(code);
  await demo.waitForModal({ text: /logged in/ });
  return { refusal, done: await demo.modalText() };
}

/** The key of the newest arrival on a phone, to wait for the next one (undefined: nothing yet). */
export async function latestKey(demo, personId) {
  const newest = demo.arrivals(personId).first();
  return (await newest.count()) === 0 ? undefined : { key: await newest.getAttribute('data-key') };
}

/** A code of the same length that is not `code`. */
export const wrongCode = (code) => code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);
