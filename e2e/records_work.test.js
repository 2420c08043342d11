// Working with the e-file in a real browser, without JavaScript and with axe on every page: a clerk files a
// document and a note into a case's Vorgang, takes an incoming mail from the in-tray (the reference in its text
// proposes the Vorgang), starts an Umlaufmappe that the Fachadministration signs off, finds the note in the
// full-text search; anybody checks the sealed document on /pruefen; the plan is changed on four eyes; the
// classifier's accuracy is shown to the Fachadministration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, login, newContext, BASE_URL, LANGS, PDF, formatViolations, check, fillToReview, payIfAsked } from './browser.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const TEXT = {
  de: { genuine: /Echt/, completed: /abgeschlossen/, filed: /zur Akte genommen/, approved: /freigegeben/ },
  en: { genuine: /Genuine/, completed: /completed/, filed: /filed/, approved: /approved/ },
};

async function clickAndLoad(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

const noScript = async (page) =>
  assert.equal(await page.locator('script').count(), 0, `${page.url()} loads no script`);

for (const lang of LANGS) {
  test(`E-Akte at work: filing, in-tray, Umlaufmappe, search, seal check, plan on four eyes (${lang})`, async () => {
    const failures = [];
    const t = TEXT[lang];
    const ctx = () => newContext(browser, lang, { bypassCSP: true });
    const word = `Ortstermin${lang}${Date.now() % 100000}`;

    // An application of the Gewerbe office (the demo clerk works there).
    const citizen = await (await ctx()).newPage();
    await citizen.goto(`${BASE_URL}/leistungen/gewerbe-anmeldung?lang=${lang}`);
    await clickAndLoad(citizen, 'a[href="/leistungen/gewerbe-anmeldung/antrag"]');
    await clickAndLoad(citizen, 'form[action$="/antrag"] button[type=submit]');
    await fillToReview(citizen, { upload: { name: 'nachweis.pdf', mimeType: 'application/pdf', buffer: PDF } });
    await clickAndLoad(citizen, '#submit-application');
    await payIfAsked(citizen);
    const reference = (await citizen.textContent('#reference')).trim();
    await citizen.context().close();

    const clerk = await (await ctx()).newPage();
    await login(clerk, 'sachbearbeitung@musterstadt.example');
    await clerk.goto(`${BASE_URL}/staff/cases?q=${reference}`);
    await clickAndLoad(clerk, `a:text("${reference}")`);
    await clickAndLoad(clerk, '#open-record');
    const recordPath = new URL(clerk.url()).pathname;
    const fileNumber = (await clerk.textContent('#file-number')).trim();

    // A document (scan) and a note into the Vorgang.
    await clerk.fill('#doc-title', 'Stellungnahme Ordnungsamt');
    await clerk.setInputFiles('#doc-file', { name: 'stellungnahme.txt', mimeType: 'text/plain',
      buffer: Buffer.from(`Stellungnahme zur Gewerbeanmeldung ${reference}: keine Bedenken.\n`) });
    await clickAndLoad(clerk, '#file-document');
    assert.match(await clerk.textContent('main'), t.filed);
    await clerk.fill('#note-text', `Telefonat mit der Antragstellerin, ${word} vereinbart.`);
    await clickAndLoad(clerk, '#file-note');
    assert.ok(await clerk.locator('#documents-table td', { hasText: 'Stellungnahme Ordnungsamt' }).count(), 'the document is filed');
    await noScript(clerk);
    await check(clerk, 'Vorgang with filed documents', failures);

    // The in-tray: an incoming mail quoting the reference is proposed for this Vorgang.
    await clerk.goto(`${BASE_URL}/staff/posteingang`);
    await check(clerk, 'in-tray', failures);
    const eml = [
      'From: Erika Mustermann <erika@example.org>',
      'To: gewerbe@musterstadt.example',
      `Subject: Nachreichung zu ${reference}`,
      'Date: Mon, 30 Nov 2026 09:00:00 +0100',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Sehr geehrte Damen und Herren, zu Ihrem Zeichen ${reference} reiche ich die Unterlagen nach.`,
      '',
    ].join('\r\n');
    await clerk.setInputFiles('#intray-file', { name: 'nachreichung.eml', mimeType: 'message/rfc822', buffer: Buffer.from(eml) });
    await clickAndLoad(clerk, '#intray-submit');
    assert.ok(await clerk.locator('#intray-proposals li', { hasText: fileNumber }).count(), 'the reference proposes the Vorgang');
    assert.equal(await clerk.locator('input[name=record]:checked').count(), 1, 'the proposed Vorgang is preselected');
    await noScript(clerk);
    await check(clerk, 'in-tray item with proposals', failures);
    await clickAndLoad(clerk, '#intray-file-submit');
    assert.match(await clerk.textContent('main'), t.filed);
    await clerk.goto(`${BASE_URL}${recordPath}`);
    assert.ok(await clerk.locator('#documents-table td', { hasText: `Nachreichung zu ${reference}` }).count(), 'the mail is in the Vorgang');

    // An Umlaufmappe to the Fachadministration.
    await clerk.fill('#circ-title', 'Zur Kenntnis');
    const options = await clerk.locator('#circ-person1 option').allTextContents();
    const adminName = options.find((o) => /Anna Administration/.test(o));
    assert.ok(adminName, `the Fachadministration can be chosen (${options.join(', ')})`);
    await clerk.selectOption('#circ-person1', { label: adminName });
    await clickAndLoad(clerk, '#start-circulation');
    const circulationPath = new URL(clerk.url()).pathname;
    await noScript(clerk);
    await check(clerk, 'Umlaufmappe started', failures);
    assert.equal(await clerk.locator('#circulation-sign').count(), 0, 'the sender is not the one to sign');

    // The full-text search finds the note (once the processing job has run).
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await clerk.goto(`${BASE_URL}/staff/records/search?q=${word}`);
      found = (await clerk.locator('#records-hits li').count()) > 0;
      if (!found) await clerk.waitForTimeout(500);
    }
    assert.ok(found, 'the note is found by its word');
    assert.ok(await clerk.locator('#records-hits mark').count(), 'the match is marked');
    await noScript(clerk);
    await check(clerk, 'search in the files', failures);

    // The sealed document, downloaded by the clerk, is checked by anybody on /pruefen.
    await clerk.goto(`${BASE_URL}${recordPath}`);
    const docHref = await clerk.locator('#documents-table a', { hasText: 'Stellungnahme Ordnungsamt' }).getAttribute('href');
    let sealHref = null;
    for (let i = 0; i < 40 && !sealHref; i++) {
      await clerk.goto(`${BASE_URL}${recordPath}`);
      const link = clerk.locator(`#documents-table a[href="${docHref}/seal"]`);
      if (await link.count()) sealHref = await link.getAttribute('href');
      else await clerk.waitForTimeout(500);
    }
    assert.ok(sealHref, 'the document gets its seal');
    const content = await (await clerk.request.get(`${BASE_URL}${docHref}`)).body();
    const seal = await (await clerk.request.get(`${BASE_URL}${sealHref}`)).body();
    await clerk.context().close();

    const visitor = await (await ctx()).newPage();
    await visitor.goto(`${BASE_URL}/pruefen?lang=${lang}`);
    await check(visitor, 'check page', failures);
    await visitor.setInputFiles('#check-document', { name: 'stellungnahme.txt', mimeType: 'text/plain', buffer: content });
    await visitor.setInputFiles('#check-seal', { name: 'stellungnahme.txt.siegel.json', mimeType: 'application/json', buffer: seal });
    await clickAndLoad(visitor, '#check-submit');
    assert.match(await visitor.textContent('#check-verdict'), t.genuine);
    await noScript(visitor);
    await check(visitor, 'check result: genuine', failures);
    const changed = Buffer.concat([content, Buffer.from(' ')]);
    await visitor.setInputFiles('#check-document', { name: 'stellungnahme.txt', mimeType: 'text/plain', buffer: changed });
    await clickAndLoad(visitor, '#check-submit');
    assert.doesNotMatch(await visitor.textContent('#check-verdict'), t.genuine);
    await check(visitor, 'check result: changed', failures);
    await visitor.context().close();

    // The Fachadministration signs off; the Umlaufmappe is completed.
    const admin = await (await ctx()).newPage();
    await login(admin, 'admin@musterstadt.example');
    await admin.goto(`${BASE_URL}/staff/umlauf`);
    assert.ok(await admin.locator('#circulations-waiting a', { hasText: 'Zur Kenntnis' }).count(), 'it waits for the admin');
    await check(admin, 'my Umlaufmappen', failures);
    await admin.goto(`${BASE_URL}${circulationPath}`);
    await admin.fill('#sign-comment', 'Gesehen.');
    await clickAndLoad(admin, '#circulation-sign');
    assert.match(await admin.textContent('#circulation-status'), t.completed);
    await check(admin, 'Umlaufmappe completed', failures);

    // The classifier's measurement and the rules.
    await admin.goto(`${BASE_URL}/staff/posteingang/einstellungen`);
    assert.ok(await admin.locator('#classifier').count(), 'the classifier is shown');
    await noScript(admin);
    await check(admin, 'in-tray rules and classifier', failures);

    // The plan on four eyes: the admin asks, a second admin approves.
    const code = `0.${lang === 'de' ? 91 : 92}`;
    await admin.goto(`${BASE_URL}/staff/records/plan`);
    await check(admin, 'plan changes', failures);
    await admin.fill('#plan-code', code);
    await admin.fill('#plan-title', `Ortstermine ${lang}`);
    await admin.fill('#plan-years', '5');
    await clickAndLoad(admin, '#plan-node-submit');
    assert.ok(await admin.locator('#plan-changes td', { hasText: code }).count(), 'the change waits');
    await check(admin, 'plan change requested', failures);
    await admin.context().close();
    const second = await (await ctx()).newPage();
    await login(second, 'admin2@musterstadt.example');
    await second.goto(`${BASE_URL}/staff/records/plan`);
    const row = second.locator('#plan-changes tr', { hasText: code });
    await Promise.all([second.waitForLoadState('load'), row.locator('button[id^=approve-]').click()]);
    assert.match(await second.textContent('main'), t.approved);
    await second.goto(`${BASE_URL}/staff/records`);
    assert.ok(await second.locator('#plan-table td', { hasText: code }).count(), 'the new node is in the plan');
    await second.context().close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });
}
