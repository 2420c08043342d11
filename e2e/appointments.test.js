// Terminvergabe in a real browser with JavaScript off (the hold works without the proof of work), in German and
// English, axe on every page: the offer → a service → a day → a time chosen by keyboard → held → name and e-mail →
// waiting for the e-mail confirmation; the confirmation link from the demo's mail folder (a page with a button: the
// GET confirms nothing) → confirmed → calendar file → moved → cancelled. The clerk's day list with a phone booking
// (and one refused), blocking a slot, cancelling, the print view and the utilisation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, login, newContext, BASE_URL, LANGS, formatViolations, check } from './browser.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const TEXT = {
  de: { offer: /Termin vereinbaren/, held: /reserviert/, pending: /E-Mail/, confirmed: /bestätigt/, moved: /verlegt/, cancelled: /abgesagt/ },
  en: { offer: /Book an appointment/, held: /reserved/, pending: /e-mail/, confirmed: /confirmed/, moved: /moved/, cancelled: /cancelled/ },
};

async function clickAndLoad(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

/// Runs axe on `url` in the checking context (axe needs JavaScript; the walk has none).
async function checkUrl(checker, url, label, failures) {
  const r = await checker.goto(url);
  assert.ok(r.status() < 400, `${label}: ${url} answers ${r.status()}`);
  await check(checker, label, failures);
}

/// Decodes what a mail file may hold: the raw text, quoted-printable, and base64 blocks.
function mailTexts(raw) {
  // Quoted-printable first: its soft line breaks cut a long link in the raw text.
  const out = [raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)))];
  for (const block of raw.split(/\r?\n\r?\n/)) {
    const b = block.replace(/\s+/g, '');
    if (b.length > 40 && /^[A-Za-z0-9+/]+=*$/.test(b)) out.push(Buffer.from(b, 'base64').toString('utf8'));
  }
  out.push(raw);
  return out;
}

/// The confirmation link of booking `code` from the demo's mail folder (the worker sends it shortly after).
async function confirmationLink(page, code) {
  const dir = join(process.env.E2E_DATA_DIR, 'mails');
  const pattern = new RegExp(`/termine/buchung/${code}/bestaetigen/[0-9a-f]{32,}`);
  for (let i = 0; i < 80; i++) {
    let files = [];
    try { files = readdirSync(dir).filter((f) => f.endsWith('.eml')); } catch { /* not there yet */ }
    for (const f of files) {
      for (const text of mailTexts(readFileSync(join(dir, f), 'utf8'))) {
        const m = text.match(pattern);
        if (m) return m[0];
      }
    }
    await page.waitForTimeout(250);
  }
  return null;
}

/// Tabs from the main content to the first element matching `selector`.
async function tabTo(page, selector) {
  await page.focus('#main');
  for (let guard = 0; guard < 200; guard++) {
    await page.keyboard.press('Tab');
    // A selector on :focus, not page.evaluate: the walk runs without JavaScript.
    if (await page.locator(`${selector}:focus`).count()) return;
  }
  assert.fail(`keyboard: ${selector} is not reachable by Tab`);
}

for (const lang of LANGS) {
  test(`book, confirm, move and cancel an appointment without JavaScript (${lang})`, async (t) => {
    const failures = [];
    const tx = TEXT[lang];
    const walkContext = await newContext(browser, lang, { javaScriptEnabled: false });
    const walker = await walkContext.newPage();
    const checkContext = await newContext(browser, lang, { bypassCSP: true });
    const checker = await checkContext.newPage();

    // The offer: locations with their services.
    await walker.goto(`${BASE_URL}/termine`);
    assert.match(await walker.textContent('h1'), tx.offer);
    assert.ok(await walker.locator('a[href="/termine/buergerbuero/personalausweis"]').count(), 'the offer links Personalausweis');
    await checkUrl(checker, `${BASE_URL}/termine`, 'appointments offer', failures);

    // A service: the days of the window, the first day with free times chosen.
    await clickAndLoad(walker, 'a[href="/termine/buergerbuero/personalausweis"]');
    assert.ok(await walker.locator('#days li').count() > 20, 'the booking window lists its days');
    assert.ok(await walker.locator('#times input[type=radio][name=start]').count(), 'a day with free times is shown');
    assert.equal(await walker.locator('#times-form input[name=pow]').count(), 1, 'the hold form carries the pow field');
    await checkUrl(checker, walker.url(), 'appointment days and times', failures);

    // Sending the form without a time is refused, naming the field, on the same day.
    await checker.goto(walker.url());
    const shownDay = await checker.getAttribute('#times-form input[name=tag]', 'value');
    await clickAndLoad(checker, '#times-submit');
    assert.ok(await checker.locator('#appointment-error a[href^="#time-"]').count(), 'the summary links the times');
    assert.equal(await checker.getAttribute('#times-form input[name=tag]', 'value'), shownDay, 'the same day again');
    await check(checker, 'hold without a time', failures);

    // Another day by its link; the times are a list in a fieldset named by the day.
    const dayLinks = walker.locator('#days a');
    assert.ok(await dayLinks.count() > 1, 'more than one day has free times');
    const href = await dayLinks.nth(1).getAttribute('href');
    await clickAndLoad(walker, `#days a[href="${href}"]`);
    assert.match(walker.url(), /\?tag=\d{4}-\d{2}-\d{2}$/);
    assert.equal(await walker.locator('#days a[aria-current="date"]').getAttribute('href'), href);
    const legend = (await walker.textContent('#times legend')).trim();
    assert.match(legend, /\d{4}/, `the legend names the day: ${legend}`);
    assert.equal(await walker.locator('#times ul li input[type=radio]').count(), await walker.locator('#times input[type=radio]').count());
    await checkUrl(checker, walker.url(), 'appointment times of a day', failures);

    // Choose a time and hold it with the keyboard alone.
    await tabTo(walker, '#times input[type=radio]');
    await walker.keyboard.press('Space');
    const chosen = await walker.locator('#times input[type=radio]:focus').getAttribute('value');
    assert.ok(await walker.locator(`#times input[value="${chosen}"]`).isChecked(), 'Space chooses the time');
    await tabTo(walker, '#times-submit');
    await Promise.all([walker.waitForURL(/\/termine\/buchung\//), walker.keyboard.press('Enter')]);
    assert.match(walker.url(), /\/termine\/buchung\/[0-9A-Z-]+$/, `held: ${walker.url()}`);
    const booking = walker.url();
    const code = booking.split('/').pop();
    assert.equal(await walker.getAttribute('#booking-status', 'data-status'), 'held');
    assert.match(await walker.textContent('#held-until'), tx.held);
    await checkUrl(checker, booking, 'booking held', failures);

    // A missing name is refused, naming the field.
    await walker.fill('#booking-email', 'ohne-name@e2e.example');
    await clickAndLoad(walker, '#details-submit');
    assert.ok(await walker.locator('#booking-name[aria-invalid=true]').count(), 'the name is marked');
    assert.ok(await walker.locator('#appointment-error a[href="#booking-name"]').count(), 'the summary links the name');
    // The same refusal for axe (the booking's page is reached by its address alone).
    await checker.goto(booking);
    await checker.fill('#booking-email', 'ohne-name@e2e.example');
    await clickAndLoad(checker, '#details-submit');
    assert.ok(await checker.locator('#booking-name[aria-invalid=true]').count(), 'refused in the checking context too');
    await check(checker, 'booking details refused', failures);

    // Name and e-mail: the booking waits for the e-mail confirmation.
    const email = `termin-${lang}-${Date.now()}@e2e.example`;
    await walker.fill('#booking-name', 'Erika Test');
    await walker.fill('#booking-email', email);
    await clickAndLoad(walker, '#details-submit');
    assert.equal(walker.url(), `${booking}?msg=details`);
    assert.equal(await walker.getAttribute('#booking-status', 'data-status'), 'pending');
    assert.match(await walker.textContent('#pending-note'), tx.pending);
    assert.ok((await walker.textContent('#pending-note')).includes(email), 'the page names the address');
    await checkUrl(checker, walker.url(), 'booking pending', failures);

    if (!process.env.E2E_DATA_DIR) {
      assert.ok(process.env.CI !== 'true', 'E2E_DATA_DIR must name the demo data folder under CI');
      t.diagnostic('E2E_DATA_DIR is not set: the confirmation link is not followed');
    } else {
      const link = await confirmationLink(walker, code);
      assert.ok(link, `the confirmation mail for ${code} is in the mail folder`);
      // Following the link shows a button; the GET alone confirms nothing (mail scanners follow links).
      await walker.goto(`${BASE_URL}${link}`);
      assert.equal(await walker.getAttribute('#booking-status', 'data-status'), 'pending');
      await checkUrl(checker, `${BASE_URL}${link}`, 'confirmation page', failures);
      await clickAndLoad(walker, '#confirm-submit');
      assert.equal(walker.url(), `${booking}?msg=confirmed`);
      assert.equal(await walker.getAttribute('#booking-status', 'data-status'), 'confirmed');
      assert.match(await walker.textContent('#appointment-message'), tx.confirmed);
      await checkUrl(checker, walker.url(), 'booking confirmed', failures);

      // The calendar file.
      const ics = await walker.request.get(`${booking}/termin.ics`);
      assert.equal(ics.status(), 200);
      assert.equal(ics.headers()['content-type'], 'text/calendar; charset=utf-8');
      assert.match(ics.headers()['content-disposition'], /attachment; filename="termin\.ics"/);
      assert.match(await ics.text(), /BEGIN:VCALENDAR/);

      // Move it: the same days and times, posting another start.
      const before = (await walker.textContent('#booking-when')).trim();
      await clickAndLoad(walker, '#move-link');
      assert.ok(await walker.locator('#current-time').count(), 'the present time is shown');
      await checkUrl(checker, walker.url(), 'move the appointment', failures);
      await walker.locator(`#times input[type=radio]:not([value="${chosen}"])`).last().check();
      await clickAndLoad(walker, '#times-submit');
      assert.equal(walker.url(), `${booking}?msg=moved`);
      assert.match(await walker.textContent('#appointment-message'), tx.moved);
      assert.notEqual((await walker.textContent('#booking-when')).trim(), before, 'the time changed');
    }

    // Cancel it.
    await clickAndLoad(walker, '#cancel-submit');
    assert.equal(walker.url(), `${booking}?msg=cancelled`);
    assert.equal(await walker.getAttribute('#booking-status', 'data-status'), 'cancelled');
    assert.match(await walker.textContent('#appointment-message'), tx.cancelled);
    assert.ok(await walker.locator('#book-again').count(), 'a link to book anew');
    await checkUrl(checker, walker.url(), 'booking cancelled', failures);

    // Pages load no script but the proof of work on the hold form.
    await walker.goto(booking);
    assert.equal(await walker.locator('script').count(), 0, 'the booking page loads no script');
    await walkContext.close();
    await checkContext.close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });

  test(`the staff day list: phone booking, slots, print view, utilisation (${lang})`, async () => {
    const failures = [];
    const context = await newContext(browser, lang, { bypassCSP: true });
    const clerk = await context.newPage();
    await login(clerk, 'sachbearbeitung@musterstadt.example');
    await clerk.goto(`${BASE_URL}/staff/termine`);
    assert.ok(await clerk.locator('#staff-locations a[href="/staff/termine/buergerbuero"]').count(), 'the clerk works the Bürgerbüro');
    await check(clerk, 'staff appointment locations', failures);

    // A coming day with free phone times (a Thursday is open longest).
    let day = null;
    const d = new Date();
    for (let i = 1; i < 40 && !day; i++) {
      const c = new Date(d.getTime() + i * 86400000);
      if (c.getDay() !== 4) continue;
      const tag = c.toISOString().slice(0, 10);
      await clerk.goto(`${BASE_URL}/staff/termine/buergerbuero?tag=${tag}`);
      if (await clerk.locator('#book-form').count()) day = tag;
    }
    assert.ok(day, 'a Thursday with free phone times');
    assert.ok(await clerk.locator('#slots tbody tr').count(), 'the slots of the day');
    await check(clerk, 'staff day list', failures);

    // A booking by phone: confirmed at once, e-mail optional.
    const name = `Telefon ${lang} ${Date.now() % 100000}`;
    await clerk.selectOption('#book-start', { index: 1 });
    await clerk.check('#book-channel-phone');
    await clerk.fill('#book-name', name);
    await clerk.fill('#book-phone', '06051 12345');
    await clickAndLoad(clerk, '#book-submit');
    assert.match(clerk.url(), /msg=booked/);
    const row = clerk.locator('#bookings tr', { hasText: name });
    assert.equal(await row.count(), 1, 'the booking is in the day list');
    assert.equal(await row.getAttribute('data-status'), 'confirmed');
    await check(clerk, 'staff day list after a phone booking', failures);

    // A booking without a name is refused, naming the field.
    await clerk.selectOption('#book-start', { index: 1 });
    await clickAndLoad(clerk, '#book-submit');
    assert.ok(await clerk.locator('#book-name[aria-invalid=true]').count(), 'the name is marked');
    await check(clerk, 'staff booking refused', failures);

    // Block a slot and free it again.
    await clerk.goto(`${BASE_URL}/staff/termine/buergerbuero?tag=${day}`);
    const slot = await clerk.locator('#slots tbody tr:not([data-blocked]) input[name=start]').last().getAttribute('value');
    await clickAndLoad(clerk, `#slots tr[data-start="${slot}"] .block-slot`);
    assert.match(clerk.url(), /msg=blocked/);
    assert.equal(await clerk.getAttribute(`#slots tr[data-start="${slot}"]`, 'data-blocked'), '1');
    await clickAndLoad(clerk, `#slots tr[data-start="${slot}"] .block-slot`);
    assert.match(clerk.url(), /msg=unblocked/);

    // Cancel the phone booking.
    await clickAndLoad(clerk, `#bookings tr:has-text("${name}") .cancel-booking`);
    assert.match(clerk.url(), /msg=cancelled/);
    assert.equal(await clerk.locator('#bookings tr', { hasText: name }).count(), 0, 'a cancelled booking leaves the list');

    // The print view has no forms; the utilisation.
    await clerk.goto(`${BASE_URL}/staff/termine/buergerbuero?tag=${day}&druck=1`);
    assert.equal(await clerk.locator('main form[method=post]').count(), 0, 'the print view has no forms');
    await check(clerk, 'staff day list, print view', failures);
    await clerk.goto(`${BASE_URL}/staff/termine/buergerbuero/statistik`);
    assert.equal(await clerk.locator('#utilisation tbody tr').count(), 4, 'three channels and the total');
    assert.equal(await clerk.locator('script').count(), 0, 'staff pages load no script');
    await check(clerk, 'staff utilisation', failures);
    await context.close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });
}

test('with JavaScript the hold carries the solved proof of work (CSP in force)', async () => {
  const context = await newContext(browser, 'de');
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (/Content Security Policy/.test(m.text())) errors.push(m.text()); });
  await page.goto(`${BASE_URL}/termine/buergerbuero/meldebescheinigung`);
  assert.equal(await page.locator('script[src*="/pow.js"]').count(), 1, 'the hold form loads pow.js');
  // pow.js writes base64(JSON) of the solution into the hidden field.
  await page.waitForFunction(() => document.querySelector('#times-form input[name=pow]').value !== '', null, { timeout: 30000 });
  const pow = JSON.parse(Buffer.from(await page.inputValue('#times-form input[name=pow]'), 'base64').toString('utf8'));
  assert.deepEqual(Object.keys(pow).sort(), ['algorithm', 'challenge', 'number', 'salt', 'signature']);
  assert.equal(pow.algorithm, 'SHA-256');
  await page.locator('#times input[type=radio]').first().check();
  await Promise.all([page.waitForURL(/\/termine\/buchung\//), page.click('#times-submit')]);
  assert.equal(await page.getAttribute('#booking-status', 'data-status'), 'held', 'the server accepted the solution');
  assert.deepEqual(errors, [], 'no script errors (CSP)');
  // Give the time back.
  await clickAndLoad(page, '#cancel-submit');
  assert.equal(await page.getAttribute('#booking-status', 'data-status'), 'cancelled');
  await context.close();
});
