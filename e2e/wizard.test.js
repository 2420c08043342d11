// The form wizard in a real browser: axe on every form page (incl. error states), the whole
// Hundesteuer-Anmeldung without JavaScript (repeatable group, conditions, upload, review, resume link),
// conditions re-evaluated by the server with JavaScript (no page load), Enter submits "Weiter",
// and the editor's form pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, login, newContext, BASE_URL, LANGS, PDF, formatViolations, check, start, next, fillGenerically, payIfAsked } from './browser.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const lang of LANGS) {
  test(`Gewerbe-Anmeldung (FIM): every step, the errors, the review and the saved page pass axe (${lang})`, async () => {
    const context = await browser.newContext({ bypassCSP: true, locale: 'de-DE' });
    const page = await context.newPage();
    const failures = [];
    await page.goto(`${BASE_URL}/leistungen/gewerbe-anmeldung/antrag?lang=${lang}`);
    await check(page, 'start page', failures);
    await start(page, 'gewerbe-anmeldung', lang);
    const total = Number((await page.textContent('#progress')).match(/(\d+)\s*\D+\s*(\d+)/)[2]);
    assert.ok(total >= 3, 'the FIM form has several steps');
    for (let step = 1; step <= total; step++) {
      await check(page, `step ${step}`, failures);
      await next(page);
      if (await page.locator('#error-summary').count()) {
        assert.equal(await page.getAttribute('html', 'lang'), lang);
        const firstLink = await page.getAttribute('#error-summary a', 'href');
        assert.ok(await page.locator(firstLink).count(), `step ${step}: the summary links to an existing field (${firstLink})`);
        await check(page, `step ${step} with errors`, failures);
        await fillGenerically(page);
        await next(page);
      }
      if (await page.locator('#error-summary').count()) {
        await fillGenerically(page, true);
        await next(page);
      }
      if (await page.locator('#error-summary').count()) {
        // Generic values may not fit every FIM rule; show what the page says.
        const msg = await page.textContent('#error-summary');
        assert.fail(`step ${step}: still errors after filling: ${msg}`);
      }
    }
    assert.match(page.url(), /\/pruefen$/, 'after the last step comes the review');
    assert.ok(await page.locator('.review-section').count() >= total);
    await check(page, 'review', failures);
    const reviewUrl = page.url();
    await page.goto(reviewUrl.replace(/\/pruefen$/, '/gespeichert'));
    await check(page, 'saved page', failures);

    // Send it: the confirmation page, then the clerk's inbox and case page.
    await page.goto(reviewUrl);
    await Promise.all([page.waitForLoadState('load'), page.click('#submit-application')]);
    assert.match(page.url(), /\/antrag\/eingang\/rh_/);
    await payIfAsked(page);
    const reference = (await page.textContent('#reference')).trim();
    assert.match(reference, /^MS-\d{4}-\d{6}$/);
    await check(page, 'confirmation of receipt', failures);
    await login(page, 'sachbearbeitung@musterstadt.example');
    await page.goto(`${BASE_URL}/staff/cases?lang=${lang}&q=${reference}`);
    await check(page, 'case inbox', failures);
    await Promise.all([page.waitForLoadState('load'), page.click(`a:text("${reference}")`)]);
    await check(page, 'case page', failures);
    await Promise.all([page.waitForLoadState('load'), page.click('#claim')]);
    await Promise.all([page.waitForLoadState('load'), page.click('#action-request_documents')]);
    assert.match(await page.textContent('#case-status'), lang === 'de' ? /Warten auf Unterlagen/ : /Awaiting documents/);
    await check(page, 'case page after actions', failures);
    await context.close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });
}

for (const lang of LANGS) {
  test(`Bewohnerparkausweis: code-list selects show their entries and pass axe (${lang})`, async () => {
    const context = await newContext(browser, lang, { bypassCSP: true });
    const page = await context.newPage();
    await start(page, 'bewohnerparkausweis', lang);
    const failures = [];
    let withOptions = 0;
    for (let i = 0; i < 8 && !page.url().endsWith('/pruefen'); i++) {
      for (const sel of await page.locator('#step-fields select').all()) {
        if ((await sel.locator('option').count()) > 2) withOptions++;
      }
      await check(page, `step ${i + 1}`, failures);
      await fillGenerically(page);
      await next(page);
      if (await page.locator('#error-summary').count()) {
        await check(page, `step ${i + 1} with errors`, failures);
        await fillGenerically(page);
        await next(page);
      }
    }
    assert.ok(withOptions > 0, 'at least one select carries a code list');
    await context.close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });
}

for (const lang of LANGS) {
  test(`without JavaScript: the Hundesteuer-Anmeldung from start to review, with two dogs, a permit upload and a resume link (${lang})`, async () => {
    const context = await newContext(browser, lang, { javaScriptEnabled: false });
    // axe needs JavaScript: each state is opened again in this context.
    const axeContext = await newContext(browser, lang, { bypassCSP: true });
    const axePage = await axeContext.newPage();
    const page = await context.newPage();
    const failures = [];
    await start(page, 'hundesteuer-anmeldung', lang);
    await axePage.goto(page.url());
    await check(axePage, 'Hundesteuer step 1', failures);
    await Promise.all([axePage.waitForLoadState('load'), axePage.click('.wizard-buttons button[value=next]')]);
    await check(axePage, 'Hundesteuer step 1 with errors', failures);

    // Step 1: submit empty → error summary; then fill.
    await next(page);
    assert.ok(await page.locator('#error-summary').count(), 'empty step 1 shows the error summary');
    assert.match(await page.title(), lang === 'de' ? /^Fehler: / : /^Error: /);
    await page.fill('#f-vorname', 'Erika');
    await page.fill('#f-familienname', 'Mustermann');
    await page.fill('#f-geburtsdatum', '1980-05-17');
    await page.fill('#f-anschrift-strasse', 'Hauptstraße');
    await page.fill('#f-anschrift-hausnummer', '1');
    await page.fill('#f-anschrift-plz', '12345');
    await page.fill('#f-anschrift-ort', 'Musterstadt');
    assert.equal(await page.getAttribute('#f-familienname', 'autocomplete'), 'family-name');
    await next(page);
    assert.match(page.url(), /\/schritt\/2$/);

    // Step 2: a second dog, a listed breed → the permit appears after the submit, with a notice.
    await page.fill('#f-hunde-0-name', 'Bello');
    await page.selectOption('#f-hunde-0-rasse', 'mischling');
    await page.fill('#f-hunde-0-wurfdatum', '2021-03-01');
    await page.fill('#f-hunde-0-haltung_seit', '2021-06-01');
    await Promise.all([page.waitForLoadState('load'), page.click('button[value="add:hunde"]')]);
    assert.equal(await page.inputValue('#f-hunde-0-name'), 'Bello', 'entered values survive adding a dog');
    await page.fill('#f-hunde-1-name', 'Rex');
    await page.selectOption('#f-hunde-1-rasse', 'pitbull');
    await page.fill('#f-hunde-1-wurfdatum', '2022-01-01');
    await page.fill('#f-hunde-1-haltung_seit', '2022-03-01');
    await next(page);
    assert.match(page.url(), /\/schritt\/2$/);
    assert.ok(await page.locator('#f-hunde-1-erlaubnis').count(), 'the permit upload appeared for the listed breed');
    const twoDogs = page.url();
    await next(page);
    assert.ok(await page.locator('a[href="#f-hunde-1-erlaubnis"]').count(), 'missing permit is in the summary');
    // Same draft in an axe-capable context: the error state of step 2 with two dogs.
    await axePage.goto(twoDogs);
    await axePage.click('.wizard-buttons button[value=next]');
    await axePage.waitForLoadState('load');
    await check(axePage, 'Hundesteuer step 2, two dogs, errors', failures);
    await page.setInputFiles('#f-hunde-1-erlaubnis', { name: 'Erlaubnis.pdf', mimeType: 'application/pdf', buffer: PDF });
    await next(page);
    assert.match(page.url(), /\/schritt\/3$/, `step 2 done: ${await page.textContent('main')}`);

    // Step 3: direct debit → account fields appear.
    await page.check('#f-ermaessigung-1');
    await page.check('#f-lastschrift-0');
    await next(page);
    assert.ok(await page.locator('#f-iban').count(), 'IBAN appears after choosing direct debit');
    await axePage.goto(page.url());
    await check(axePage, 'Hundesteuer step 3 with the account fields', failures);
    await page.fill('#f-kontoinhaber', 'Erika Mustermann');
    await page.fill('#f-iban', 'DE89 3704 0044 0532 0130 00');
    await next(page);
    await page.check('#f-richtigkeit-0');
    await next(page);
    assert.match(page.url(), /\/pruefen$/);
    const review = await page.textContent('main');
    for (const s of ['Mustermann', 'Bello', 'Rex', 'Erlaubnis.pdf', 'DE89370400440532013000']) {
      assert.ok(review.includes(s), `review shows ${s}`);
    }
    await axePage.goto(page.url());
    await check(axePage, 'Hundesteuer review', failures);

    // Remove the second dog again (no JavaScript), then save and resume elsewhere.
    await page.goto(twoDogs);
    await Promise.all([page.waitForLoadState('load'), page.click('button[value="remove:hunde[1]"]')]);
    assert.equal(await page.locator('#f-hunde-1-name').count(), 0, 'the second dog is gone');
    await Promise.all([page.waitForLoadState('load'), page.click('.wizard-buttons button[value=save]')]);
    assert.match(page.url(), /\/gespeichert$/);
    await axePage.goto(page.url());
    await check(axePage, 'Hundesteuer saved, with the resume link', failures);
    const link = await page.inputValue('#resume-link');
    const other = await browser.newContext({ javaScriptEnabled: false });
    const otherPage = await other.newPage();
    await otherPage.goto(link);
    assert.match(otherPage.url(), /\/schritt\/2$/);
    assert.equal(await otherPage.inputValue('#f-hunde-0-name'), 'Bello');
    await other.close();
    await context.close();
    await axeContext.close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });
}

test('with JavaScript: a condition is re-evaluated by the server without a page load, focus stays', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await start(page, 'brunnenbohrung-anzeigen');
  await page.goto(page.url().replace(/\/schritt\/1$/, '/schritt/3'));
  await page.evaluate(() => { window.__noReload = true; });
  assert.equal(await page.locator('#f-waermeleistung').count(), 0);
  await page.focus('#f-zweck-2');
  await page.check('#f-zweck-2');
  await page.waitForSelector('#f-waermeleistung', { timeout: 5000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'no page load');
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'f-zweck-2', 'focus stays on the control');
  await page.check('#f-zweck-0');
  await page.waitForSelector('#f-waermeleistung', { state: 'detached', timeout: 5000 });
  assert.ok(await page.locator('#f-entnahme').count(), 'garden use asks for the yearly amount');
  await context.close();
});

test('keyboard: Enter in a text field submits "Weiter", not a group button', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await start(page, 'hundesteuer-anmeldung');
  await page.goto(page.url().replace(/\/schritt\/1$/, '/schritt/2'));
  const before = await page.locator('[id^="f-hunde-"][id$="-name"]').count();
  await page.focus('#f-hunde-0-name');
  await page.keyboard.type('Bello');
  await Promise.all([page.waitForEvent('framenavigated'), page.keyboard.press('Enter')]);
  await page.waitForLoadState('load');
  assert.match(page.url(), /\/schritt\/2$/);
  assert.ok(await page.locator('#error-summary').count(), 'Enter validated the step (errors for the other fields)');
  assert.equal(await page.locator('[id^="f-hunde-"][id$="-name"]').count(), before, 'no dog was added or removed');
  // Tab from the error summary reaches its first link.
  await page.focus('#error-summary');
  await page.keyboard.press('Tab');
  assert.match(await page.evaluate(() => document.activeElement.getAttribute('href') || ''), /^#f-/);
  await context.close();
});

for (const lang of LANGS) {
  test(`editor form pages pass axe, including a refused rule (${lang})`, async () => {
    const context = await newContext(browser, lang, { bypassCSP: true });
    const page = await context.newPage();
    const failures = [];
    await login(page, 'redaktion@musterstadt.example');
    await page.goto(`${BASE_URL}/staff/forms`);
    await check(page, '/staff/forms', failures);
    await page.goto(`${BASE_URL}/staff/forms/import`);
    await check(page, '/staff/forms/import', failures);
    await page.goto(`${BASE_URL}/staff/forms`);
    const detail = await page.getAttribute('a[href^="/staff/forms/"]:not([href$="import"])', 'href');
    await page.goto(`${BASE_URL}${detail}`);
    await check(page, 'form detail', failures);
    const item = await page.getAttribute('a[href*="/items/"]', 'href');
    await page.goto(`${BASE_URL}${item}`);
    await check(page, 'field editor', failures);
    await page.fill('#visible_if', 'a ==');
    await Promise.all([page.waitForLoadState('load'), page.click('main form button[type=submit]')]);
    assert.ok(await page.locator('#item-errors').count(), 'a broken rule is refused with a message');
    await check(page, 'field editor with errors', failures);
    await page.goto(`${BASE_URL}${detail}/json`);
    await check(page, 'JSON editor', failures);
    await page.goto(`${BASE_URL}${detail}/preview/1`);
    await check(page, 'preview', failures);
    await context.close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });
}
