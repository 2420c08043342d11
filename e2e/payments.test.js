// E-Payment in a real browser on pages without JavaScript, with the platform's CSP in force and axe on every payment page:
// the citizen completes the Gewerbe-Anmeldung, pays 26,00 EUR at the test provider (pmPayment), comes back to a
// confirmation that says paid and finds the Zahlungsbestätigung in the mailbox; the clerk sees the paid case and
// asks for a further fee; the Fachadministration finds the payment in the day's list and CSV and refunds part of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, login, newContext, BASE_URL, LANGS, PDF, formatViolations, check, fillToReview } from './browser.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const TEXT = {
  de: { paid: /Zahlung ist eingegangen/, awaiting: /noch nicht eingegangen/, refunded: /erstattet/, requested: /Gebührenanforderung/ },
  en: { paid: /payment has been received/, awaiting: /not yet received/, refunded: /refunded/, requested: /fee request/ },
};

async function clickAndLoad(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

const noScript = async (page) =>
  assert.equal(await page.locator('script').count(), 0, `${page.url()} loads no script`);

for (const lang of LANGS) {
  test(`pay before sending at the test provider, receipt in the mailbox, clerk, CSV, refund (${lang})`, async () => {
    const failures = [];
    const t = TEXT[lang];
    // Pages load no script; axe needs its own (the CSP is bypassed for it), the payer's browser keeps the CSP as
    // served: the pay button's answer leads to the provider, which `form-action` must allow.
    const ctx = () => newContext(browser, lang, { bypassCSP: true });

    const citizen = await (await ctx()).newPage();
    await citizen.goto(`${BASE_URL}/leistungen/gewerbe-anmeldung?lang=${lang}`);
    await clickAndLoad(citizen, 'a[href="/leistungen/gewerbe-anmeldung/antrag"]');
    await clickAndLoad(citizen, 'form[action$="/antrag"] button[type=submit]');
    await fillToReview(citizen, { upload: { name: 'nachweis.pdf', mimeType: 'application/pdf', buffer: PDF } });
    await clickAndLoad(citizen, '#submit-application');
    const access = citizen.url().replace(/\?.*$/, '');
    const reference = (await citizen.textContent('#reference')).trim();
    assert.match(await citizen.textContent('#awaiting-payment'), t.awaiting);
    assert.match(await citizen.textContent('#payments'), /26[,.]00/);
    await noScript(citizen);
    await check(citizen, 'application awaiting payment', failures);

    // At the provider (in a browser with the CSP in force): pick a method and pay.
    const payer = await (await newContext(browser, lang)).newPage();
    await payer.goto(access);
    await clickAndLoad(payer, '.pay-now');
    assert.match(payer.url(), /\/pay\//, `the browser is at the provider: ${payer.url()}`);
    await citizen.goto(payer.url());
    // The provider's page is German with English in brackets, whatever the platform's language: axe without the
    // language check.
    const providerViolations = await axe(citizen);
    if (providerViolations.length) failures.push({ path: `the provider’s pay page (${lang})`, violations: providerViolations });
    await payer.check('#method-creditcard');
    await clickAndLoad(payer, 'button[value=pay]');
    assert.equal(payer.url().replace(/\?.*$/, ''), access, 'back on the application');
    assert.match(await payer.textContent('main'), t.paid);
    assert.ok(await payer.locator('#payments tr[data-status="paid"]').count(), 'the payment shows as paid');
    assert.equal(await payer.locator('#awaiting-payment').count(), 0, 'the application is received');
    await citizen.goto(payer.url());
    await check(citizen, 'confirmation after payment', failures);
    await payer.context().close();

    // The Zahlungsbestätigung arrives in the mailbox (the worker runs beside the server).
    let receipt = null;
    for (let i = 0; i < 60 && !receipt; i++) {
      await citizen.goto(access);
      const link = citizen.locator('a:text-matches("^Zahlungsbestaetigung-.*\\.pdf$")');
      if (await link.count()) receipt = await link.first().getAttribute('href');
      else await citizen.waitForTimeout(250);
    }
    assert.ok(receipt, 'the receipt is in the mailbox');
    const pdf = await citizen.request.get(new URL(receipt, BASE_URL).href);
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    assert.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');
    await check(citizen, 'mailbox with the receipt', failures);

    // Coming back in another browser shows only the status.
    const stranger = await (await ctx()).newPage();
    await stranger.goto(`${BASE_URL}/antrag/${reference}/zahlung/zurueck?lang=${lang}`);
    assert.ok(await stranger.locator('#return-paid').count(), 'the return page says paid');
    await check(stranger, 'return page', failures);
    await stranger.context().close();

    // The clerk sees the paid case and asks for a further fee (pay later).
    const clerk = await (await ctx()).newPage();
    await login(clerk, 'sachbearbeitung@musterstadt.example');
    await clerk.goto(`${BASE_URL}/staff/cases?q=${reference}`);
    await clickAndLoad(clerk, `a:text("${reference}")`);
    assert.ok(await clerk.locator('#case-payments tr[data-status="paid"]').count(), 'the case shows the paid fee');
    await check(clerk, 'case page with its payment', failures);
    await clerk.fill('#fee-amount', '15,00');
    await clerk.fill('#fee-purpose', 'Auskunft aus dem Gewerberegister');
    await clickAndLoad(clerk, '#fee-request-submit');
    assert.ok(await clerk.locator('#case-notice').count(), 'the fee request is confirmed');
    assert.ok(await clerk.locator('#case-payments tr[data-status="created"]').count(), 'the fee request is listed');
    await check(clerk, 'case page after a fee request', failures);
    await clickAndLoad(clerk, '#case-payments a');
    await check(clerk, 'payment page (clerk)', failures);
    await clerk.context().close();

    // The applicant finds the request in the mailbox.
    await citizen.goto(access);
    assert.match(await citizen.textContent('main'), /15,00|15\.00/);
    await citizen.context().close();

    // The Fachadministration: the day's list, the CSV, a refund below the threshold.
    const admin = await (await ctx()).newPage();
    await login(admin, 'admin@musterstadt.example');
    await admin.goto(`${BASE_URL}/staff/zahlungen?status=paid`);
    assert.ok(await admin.locator(`#payments td:text("${reference}")`).count(), 'the list has the payment');
    await check(admin, 'payments of the day', failures);
    const csv = await admin.request.get(new URL(await admin.getAttribute('#csv-link', 'href'), BASE_URL).href);
    assert.match(csv.headers()['content-type'], /^text\/csv/);
    const line = (await csv.text()).split('\n').find((l) => l.includes(reference));
    assert.ok(line, 'the CSV has the row');
    assert.match(line, /;26\.00;1\.1\.2\.01\.431100;P-12200-GEW;pmpayment;[^;]+;creditcard;paid$/);
    await clickAndLoad(admin, `#payments tr[data-status="paid"]:has(td:text("${reference}")) a`);
    await check(admin, 'payment page', failures);
    await admin.fill('#refund-amount', '5,00');
    await admin.fill('#refund-reason', 'Teilerstattung nach Widerspruch');
    await clickAndLoad(admin, '#refund-submit');
    assert.match(await admin.textContent('#payment-status'), t.refunded);
    await check(admin, 'payment page after a refund', failures);
    await admin.goto(`${BASE_URL}/staff/zahlungen/gebuehren`);
    await noScript(admin);
    await check(admin, 'fees', failures);
    await admin.context().close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });
}
