// The end-to-end loop in a real browser, with axe on every page of it:
// without an account (find the service, fill the FIM Gewerbe-Anmeldung, send, receipt PDF; the clerk
// claims and requests a document; the applicant uploads it through the access link; the clerk issues
// a Bescheid; the applicant opens it and the clerk sees when) and with the demo citizen account
// (the form is prefilled from the profile, the application is listed under "Meine Anträge").
// Plus the account, template and routing pages. All of it in German and in English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, login, newContext, BASE_URL, LANGS, PDF, formatViolations, check, fillToReview, fillGenerically, next, payIfAsked } from './browser.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// What the case page and the Bescheid line say, per language.
const TEXT = {
  de: { awaiting: /Warten auf Unterlagen/, inProgress: /In Bearbeitung/, decided: /Entschieden/, unread: 'Noch nicht geöffnet', read: /Bekannt gegeben \(geöffnet\) am/ },
  en: { awaiting: /Awaiting documents/, inProgress: /In progress/, decided: /Decided/, unread: 'Not opened yet', read: /Notified \(opened\) on/ },
};

async function clickAndLoad(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

async function openCase(page, reference) {
  await page.goto(`${BASE_URL}/staff/cases?q=${reference}`);
  await clickAndLoad(page, `a:text("${reference}")`);
}

for (const lang of LANGS) {
  test(`without an account: apply, document request answered through the access link, Bescheid opened (${lang})`, async () => {
    const failures = [];
    const t = TEXT[lang];
    const citizen = await (await newContext(browser, lang, { bypassCSP: true })).newPage();
    // Find the service through the search.
    await citizen.goto(`${BASE_URL}/suche?q=Gewerbe%20anmelden`);
    await clickAndLoad(citizen, 'main a[href="/leistungen/gewerbe-anmeldung"]');
    await clickAndLoad(citizen, 'a[href="/leistungen/gewerbe-anmeldung/antrag"]');
    await clickAndLoad(citizen, 'form[action$="/antrag"] button[type=submit]');
    // Walk the steps; on the documents step, attach a PDF.
    await check(citizen, 'step 1', failures);
    const attached = await fillToReview(citizen, { upload: { name: 'erlaubnis.pdf', mimeType: 'application/pdf', buffer: PDF } });
    assert.ok(attached, 'the Gewerbe-Anmeldung has a documents step');
    assert.ok(await citizen.locator('text=erlaubnis.pdf').count(), 'the review lists the attachment');
    await check(citizen, 'review with an attachment', failures);
    await clickAndLoad(citizen, '#submit-application');
    assert.match(citizen.url(), /\/antrag\/eingang\/rh_/);
    await check(citizen, 'awaiting payment', failures);
    assert.ok(await payIfAsked(citizen), 'the Gewerbe-Anmeldung costs a fee paid before sending');
    const access = citizen.url().replace(/\?.*$/, '');
    const reference = (await citizen.textContent('#reference')).trim();
    await check(citizen, 'confirmation of receipt', failures);
    assert.ok(await citizen.locator('text=erlaubnis.pdf').count(), 'the confirmation lists the attachment');
    const receipt = await citizen.request.get(await citizen.locator('#receipt-pdf').evaluate((a) => a.href));
    assert.equal(receipt.headers()['content-type'], 'application/pdf');
    assert.ok((await receipt.body()).subarray(0, 5).toString() === '%PDF-');

    // The clerk claims it and requests a document.
    const clerk = await (await newContext(browser, lang, { bypassCSP: true })).newPage();
    await login(clerk, 'sachbearbeitung@musterstadt.example');
    await openCase(clerk, reference);
    await clickAndLoad(clerk, '#claim');
    await clerk.fill('#message-body', 'Bitte reichen Sie den Mietvertrag der Betriebsräume nach.');
    await clerk.fill('#message-documents', 'Mietvertrag der Betriebsräume');
    await clickAndLoad(clerk, '#send-message');
    assert.match(await clerk.textContent('#case-status'), t.awaiting);

    // The applicant answers with the document through the access link.
    await citizen.goto(access);
    assert.ok(await citizen.locator('text=Mietvertrag der Betriebsräume').count());
    await check(citizen, 'mailbox with a document request', failures);
    await citizen.fill('#answer-body', 'Anbei der Mietvertrag.');
    await citizen.setInputFiles('#answer-file', { name: 'mietvertrag.pdf', mimeType: 'application/pdf', buffer: PDF });
    await clickAndLoad(citizen, '#send-answer');
    assert.ok(await citizen.locator('text=mietvertrag.pdf').count());

    // The clerk issues the Bescheid from the service's template.
    await clerk.reload();
    assert.match(await clerk.textContent('#case-status'), t.inProgress);
    await check(clerk, 'case page with the decide form', failures);
    await clerk.check('#variant-approval');
    await clerk.fill('#decide-reason', 'Alle Unterlagen liegen vor.');
    await clickAndLoad(clerk, '#decide-issue');
    assert.match(await clerk.textContent('#case-status'), t.decided);
    assert.ok(await clerk.locator(`.decision-read:text("${t.unread}")`).count());
    await check(clerk, 'decided case', failures);

    // The applicant opens the Bescheid; the clerk sees the time of Bekanntgabe.
    await citizen.goto(access);
    await check(citizen, 'mailbox with the Bescheid', failures);
    const href = await citizen.locator('a:text-matches("^Bescheid-.*\\.pdf$")').evaluate((a) => a.href);
    const pdf = await citizen.request.get(href);
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    await clerk.reload();
    assert.match(await clerk.textContent('.decision-read'), t.read);

    await citizen.goto(`${BASE_URL}/antrag/zugang?az=${reference}`);
    await check(citizen, 'access help', failures);
    await citizen.context().close();
    await clerk.context().close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });

  test(`with the demo account: login, prefilled FIM form, "Meine Anträge", account pages pass axe (${lang})`, async () => {
    const failures = [];
    const page = await (await newContext(browser, lang, { bypassCSP: true })).newPage();
    await page.goto(`${BASE_URL}/konto/registrieren`);
    await check(page, 'register', failures);
    await page.fill('#email', 'kein-at-zeichen');
    await page.fill('#password', 'kurz');
    await clickAndLoad(page, '#account-submit');
    assert.ok(await page.locator('#form-error a[href="#password"]').count(), 'errors are listed and linked');
    await check(page, 'register with errors', failures);
    await page.goto(`${BASE_URL}/konto/passwort-vergessen`);
    await check(page, 'forgot password', failures);
    await clickAndLoad(page, '#account-submit');
    await check(page, 'forgot password with errors', failures);
    await page.goto(`${BASE_URL}/konto/bestaetigen/rh_unknown`);
    await check(page, 'invalid confirmation link', failures);
    await page.goto(`${BASE_URL}/konto`);
    assert.match(page.url(), /\/konto\/anmelden/);
    await check(page, 'account login', failures);
    await page.fill('#email', 'buerger@musterstadt.example');
    await page.fill('#password', 'demo');
    await clickAndLoad(page, '#account-submit');
    assert.match(page.url(), /\/konto$/);
    await check(page, 'my account', failures);
    await page.goto(`${BASE_URL}/konto/profil`);
    assert.equal(await page.inputValue('#family-name'), 'Musterfrau');
    await check(page, 'profile', failures);

    // The FIM form: the first family name field is prefilled from the profile.
    await page.goto(`${BASE_URL}/leistungen/gewerbe-anmeldung/antrag`);
    await clickAndLoad(page, 'form[action$="/antrag"] button[type=submit]');
    let prefilled = false;
    for (let guard = 0; guard < 10 && !prefilled; guard++) {
      prefilled = await page.evaluate(() => [...document.querySelectorAll('#step-fields input')].some((i) => i.value === 'Musterfrau'));
      if (!prefilled) {
        await fillGenerically(page);
        await next(page);
        if (await page.locator('#error-summary').count()) { await fillGenerically(page, true); await next(page); }
      }
    }
    assert.ok(prefilled, 'a step shows the family name from the profile');
    await fillToReview(page);
    await clickAndLoad(page, '#submit-application');
    assert.match(page.url(), /\/konto\/antraege\/MS-\d{4}-\d{6}/);
    const reference = (await page.textContent('#reference')).trim();
    await check(page, 'application in the account, awaiting payment', failures);
    assert.ok(await payIfAsked(page), 'paid from the account');
    assert.match(page.url(), /\/konto\/antraege\/MS-\d{4}-\d{6}\?msg=paid/);
    await check(page, 'application in the account', failures);
    await page.goto(`${BASE_URL}/konto`);
    assert.ok(await page.locator(`a:text("${reference}")`).count(), 'listed under Meine Anträge');
    await check(page, 'my account with the application', failures);
    await page.context().close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });

  test(`Fachadministration: template and routing pages pass axe, a wrong placeholder is refused (${lang})`, async () => {
    const failures = [];
    const page = await (await newContext(browser, lang, { bypassCSP: true })).newPage();
    await login(page, 'admin@musterstadt.example');
    await page.goto(`${BASE_URL}/staff/templates`);
    await check(page, 'templates', failures);
    const routing = await page.locator('tr', { hasText: 'Gewerbe-Anmeldung' }).first().locator('a[href^="/staff/routing/"]').getAttribute('href');
    const service = routing.split('/').pop();
    await page.goto(`${BASE_URL}/staff/templates/${service}/approval`);
    await check(page, 'service template', failures);
    await page.fill('#template_body', 'Hallo {{vorname}}');
    await clickAndLoad(page, '#template-save');
    assert.ok(await page.locator('#template-error').count(), 'unknown placeholder refused');
    await check(page, 'template with error', failures);
    await page.goto(`${BASE_URL}/staff/templates/default/rejection`);
    await check(page, 'default template', failures);
    await page.goto(`${BASE_URL}${routing}`);
    await check(page, 'routing', failures);
    await page.fill('#pattern-1', '48-4');
    await page.selectOption('#field-1', { index: 1 });
    await clickAndLoad(page, '#routing-save');
    assert.ok(await page.locator('#routing-error').count(), 'a broken range is refused');
    await check(page, 'routing with error', failures);
    await page.context().close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });
}
