// The e-file in a real browser, without JavaScript and with axe on every page: a Gewerbe-Anmeldung is sent
// and cancelled by the clerk; its Vorgang (E-Akte) shows the filed documents; the Fachadministration sets and
// lifts a legal hold, starts a hand-over for everything due before 2100, downloads the xdomea 0501, uploads
// the archive's 0502 and 0506 as files, asks for the destruction, and a second administrator approves it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, login, newContext, BASE_URL, LANGS, PDF, formatViolations, check, fillToReview, payIfAsked } from './browser.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const TEXT = {
  de: { closed: /abgeschlossen/, completed: /abgeschlossen/, offered: /angeboten/ },
  en: { closed: /closed/, completed: /completed/, offered: /offered/ },
};

async function clickAndLoad(page, selector) {
  await Promise.all([page.waitForLoadState('load'), page.click(selector)]);
}

function archiveMessage(process, code, name, body) {
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<xdomea:${name}.${code} xmlns:xdomea="urn:xoev-de:xdomea:schema:3.0.0"><xdomea:Kopf>`
    + `<xdomea:ProzessID>${process}</xdomea:ProzessID>`
    + '<xdomea:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0">'
    + `<code>${code}</code><name>${name}</name></xdomea:Nachrichtentyp>`
    + '<xdomea:Erstellungszeitpunkt>2100-01-02T10:00:00Z</xdomea:Erstellungszeitpunkt>'
    + '<xdomea:Absender><xdomea:Institution><xdomea:Name>Stadtarchiv</xdomea:Name></xdomea:Institution></xdomea:Absender>'
    + '<xdomea:Empfaenger><xdomea:Institution><xdomea:Name>Stadt Musterstadt</xdomea:Name></xdomea:Institution></xdomea:Empfaenger>'
    + '<xdomea:SendendesSystem><xdomea:InstanzID>2f1ee0f2-61c7-4c29-9f3a-6c1c1a0e33b1</xdomea:InstanzID>'
    + '<xdomea:Produktname>Archiv</xdomea:Produktname><xdomea:Version>1</xdomea:Version></xdomea:SendendesSystem>'
    + (code === '0502' ? '<xdomea:Empfangsbestaetigung>0</xdomea:Empfangsbestaetigung>' : '') + '</xdomea:Kopf>'
    + `${body}</xdomea:${name}.${code}>`;
}

for (const lang of LANGS) {
  test(`E-Akte: filed case, legal hold, hand-over with xdomea files, destruction on four eyes (${lang})`, async () => {
    const failures = [];
    const t = TEXT[lang];
    // The e-file's pages load no script: every step is a plain link or form (checked on each page below;
    // axe itself runs as an injected script).
    const ctx = (browser_) => newContext(browser_, lang, { bypassCSP: true });
    const noScript = async (page) => assert.equal(await page.locator('script').count(), 0, `${page.url()} loads no script`);

    // An application, cancelled by the clerk: the case is over, its retention runs.
    const citizen = await (await newContext(browser, lang, { bypassCSP: true })).newPage();
    await citizen.goto(`${BASE_URL}/leistungen/gewerbe-anmeldung?lang=${lang}`);
    await clickAndLoad(citizen, 'a[href="/leistungen/gewerbe-anmeldung/antrag"]');
    await clickAndLoad(citizen, 'form[action$="/antrag"] button[type=submit]');
    await fillToReview(citizen, { upload: { name: 'erlaubnis.pdf', mimeType: 'application/pdf', buffer: PDF } });
    await clickAndLoad(citizen, '#submit-application');
    await payIfAsked(citizen);
    const reference = (await citizen.textContent('#reference')).trim();
    await citizen.context().close();

    const clerk = await (await ctx(browser)).newPage();
    await login(clerk, 'sachbearbeitung@musterstadt.example');
    await clerk.goto(`${BASE_URL}/staff/cases?q=${reference}`);
    await clickAndLoad(clerk, `a:text("${reference}")`);
    const casePath = new URL(clerk.url()).pathname;
    await clickAndLoad(clerk, '#action-cancel');
    await clickAndLoad(clerk, '#open-record');
    // The filing job closes the Vorgang in the background.
    for (let i = 0; i < 60 && !t.closed.test(await clerk.textContent('#record-status')); i++) {
      await clerk.waitForTimeout(500);
      await clerk.reload();
    }
    assert.match(await clerk.textContent('#record-status'), t.closed);
    assert.ok(await clerk.locator('#documents-table td', { hasText: 'erlaubnis.pdf' }).count()
      || await clerk.locator('#documents-table').count(), 'documents are listed');
    assert.equal(await clerk.locator('#hold-set').count(), 0, 'clerks cannot set holds');
    await noScript(clerk);
    await check(clerk, 'case record (clerk)', failures);
    await clerk.context().close();

    const admin = await (await ctx(browser)).newPage();
    await login(admin, 'admin@musterstadt.example');
    await admin.goto(`${BASE_URL}${casePath}/record`);
    await admin.fill('#hold-reason', 'Klage vor dem Verwaltungsgericht');
    await clickAndLoad(admin, '#hold-set');
    assert.match(await admin.textContent('#legal-hold'), /Klage/);
    await check(admin, 'case record with a legal hold', failures);
    await admin.goto(`${BASE_URL}/staff/records?as_of=2100-01-01`);
    const fileNumber = (await admin.goto(`${BASE_URL}${casePath}/record`), (await admin.textContent('#file-number')).trim());
    await admin.goto(`${BASE_URL}/staff/records?as_of=2100-01-01`);
    assert.equal(await admin.locator('#due-table td', { hasText: fileNumber }).count(), 0, 'a file on hold is not due');
    await admin.goto(`${BASE_URL}${casePath}/record`);
    await clickAndLoad(admin, '#hold-lift');

    await admin.goto(`${BASE_URL}/staff/records?as_of=2100-01-01`);
    assert.ok(await admin.locator('#plan-table td', { hasText: '10.30' }).count(), 'the plan lists Gewerbe');
    assert.ok(await admin.locator('#due-table td', { hasText: fileNumber }).count(), 'the file is due before 2100');
    await noScript(admin);
    await check(admin, 'records overview with the due list', failures);
    await clickAndLoad(admin, '#disposal-start');
    assert.match(await admin.textContent('#disposal-status'), t.offered);
    await noScript(admin);
    await check(admin, 'hand-over offered', failures);
    const process = new URL(admin.url()).pathname.split('/').pop();

    const offer = await admin.request.get(`${BASE_URL}/staff/records/disposals/${process}/0501`);
    assert.equal(offer.status(), 200);
    const xml = await offer.text();
    const ids = [...xml.matchAll(/<xdomea:Vorgang>\s*<xdomea:Identifikation>\s*<xdomea:ID>([0-9a-f-]{36})</g)].map((m) => m[1]);
    assert.ok(ids.length >= 1, 'the 0501 offers Vorgänge');
    const evaluation = archiveMessage(process, '0502', 'Aussonderung.Bewertungsverzeichnis', ids.map((id) =>
      `<xdomea:BewertetesObjekt><xdomea:ID>${id}</xdomea:ID><xdomea:Aussonderungsart><xdomea:Aussonderungsart listURI="urn:xoev-de:xdomea:codeliste:aussonderungsart" listVersionID="1.0"><code>A</code></xdomea:Aussonderungsart></xdomea:Aussonderungsart></xdomea:BewertetesObjekt>`).join(''));
    // A file that is no xdomea message is refused with a message on the page.
    await admin.setInputFiles('#file-0502', { name: 'kaputt.xml', mimeType: 'application/xml', buffer: Buffer.from('<kein/>') });
    await clickAndLoad(admin, '#submit-0502');
    assert.ok(await admin.locator('#records-error').count(), 'a broken 0502 is refused');
    await check(admin, 'hand-over with an error', failures);
    await admin.setInputFiles('#file-0502', { name: 'bewertung.xml', mimeType: 'application/xml', buffer: Buffer.from(evaluation) });
    await clickAndLoad(admin, '#submit-0502');
    assert.equal(await admin.locator('#records-error').count(), 0, 'the 0502 is read');
    const pkg = await admin.request.get(`${BASE_URL}/staff/records/disposals/${process}/0503`);
    assert.equal(pkg.status(), 200);
    assert.equal(pkg.headers()['content-type'], 'application/zip');
    assert.match(pkg.headers()['content-disposition'], new RegExp(`${process}_Aussonderung\\.Aussonderung\\.0503\\.zip`));
    const receipt = archiveMessage(process, '0506', 'Aussonderung.AussonderungImportBestaetigen', ids.map((id) =>
      `<xdomea:AusgesondertesSGO><xdomea:IDSGO>${id}</xdomea:IDSGO><xdomea:Erfolgreich>1</xdomea:Erfolgreich><xdomea:Archivkennung>StA 1</xdomea:Archivkennung></xdomea:AusgesondertesSGO>`).join(''));
    await admin.setInputFiles('#file-receipt', { name: 'quittung.xml', mimeType: 'application/xml', buffer: Buffer.from(receipt) });
    await clickAndLoad(admin, '#submit-receipt');
    await clickAndLoad(admin, '#request-destruction');
    assert.ok(await admin.locator('#await-second').count(), 'the one who asked waits for a second person');
    await check(admin, 'destruction requested', failures);
    await admin.context().close();

    const second = await (await ctx(browser)).newPage();
    await login(second, 'admin2@musterstadt.example');
    await second.goto(`${BASE_URL}/staff/records/disposals/${process}`);
    await clickAndLoad(second, '#approve-destruction');
    assert.match(await second.textContent('#disposal-status'), t.completed);
    await check(second, 'hand-over completed', failures);
    await second.goto(`${BASE_URL}${casePath}/record`);
    assert.ok(await second.locator('#deletions').count(), 'the deletion record stays');
    await check(second, 'record after destruction', failures);
    await second.context().close();
    assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
  });
}
