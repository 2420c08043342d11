// Leistungskatalog in the browser: accessible pages (axe, DE and EN), search,
// and the four-eyes workflow without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, login, BASE_URL, shotName } from './browser.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const PUBLIC = ['/suche', '/suche?q=Perso', '/suche?q=xyzzy', '/leistungen', '/leistungen?audience=business',
  '/leistungen/gewerbe-anmeldung', '/leistungen/hundesteuer-anmeldung', '/themen/steuern-und-abgaben', '/lebenslagen/hund-halten'];

for (const lang of ['de', 'en']) {
  test(`catalog pages have no axe violations (${lang})`, async () => {
    const context = await browser.newContext({ bypassCSP: true, locale: 'de-DE' });
    const page = await context.newPage();
    await page.goto(`${BASE_URL}/?lang=${lang}`);
    const failures = [];
    for (const path of PUBLIC) {
      const r = await page.goto(`${BASE_URL}${path}`);
      assert.equal(r.status(), 200, path);
      await page.screenshot({ path: shotName(path.replace(/[?=&]/g, '_'), lang), fullPage: true });
      const v = await axe(page);
      if (v.length) failures.push({ path, v });
    }
    // Editor pages.
    await login(page, 'redaktion@musterstadt.example');
    const editorPages = ['/staff/catalog', '/staff/catalog/new', '/staff/synonyms'];
    for (const path of editorPages) {
      const r = await page.goto(`${BASE_URL}${path}`);
      assert.equal(r.status(), 200, path);
      const v = await axe(page);
      if (v.length) failures.push({ path, v });
    }
    // The form with errors.
    await page.goto(`${BASE_URL}/staff/catalog/new`);
    await Promise.all([page.waitForLoadState('load'), page.click('form.editor-form button[type=submit]')]);
    assert.ok(await page.locator('[role=alert]').count());
    let v = await axe(page);
    if (v.length) failures.push({ path: 'new (errors)', v });
    // A service's detail, edit and diff pages.
    await page.goto(`${BASE_URL}/staff/catalog`);
    await Promise.all([page.waitForLoadState('load'), page.click('text=Gewerbe anmelden')]);
    const detail = new URL(page.url()).pathname;
    for (const path of [detail, `${detail}/edit`]) {
      await page.goto(`${BASE_URL}${path}`);
      v = await axe(page);
      if (v.length) failures.push({ path, v });
    }
    assert.deepEqual(failures, [], JSON.stringify(failures, null, 2));
    await context.close();
  });
}

test('search from the home page without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/`);
  await page.fill('#q', 'Perso');
  await Promise.all([page.waitForLoadState('load'), page.press('#q', 'Enter')]);
  assert.match(page.url(), /\/suche\?q=Perso/);
  const first = await page.locator('.result-list a').first().getAttribute('href');
  assert.equal(first, '/leistungen/personalausweis-beantragen');
  await page.goto(`${BASE_URL}/suche?q=Gewerbeanmledung`);
  assert.equal(await page.locator('.result-list a').first().getAttribute('href'), '/leistungen/gewerbe-anmeldung');
  await context.close();
});

test('four eyes: an edit is public only after a second editor approves (no JavaScript)', async () => {
  const stamp = String(Date.now());
  const marker = `Geprüft am ${stamp}`;
  const author = await browser.newContext({ javaScriptEnabled: false, locale: 'de-DE' });
  const a = await author.newPage();
  await login(a, 'redaktion@musterstadt.example');
  await a.goto(`${BASE_URL}/staff/catalog`);
  await Promise.all([a.waitForLoadState('load'), a.click('text=Hundesteuer anmelden')]);
  const detail = new URL(a.url()).pathname;
  await a.goto(`${BASE_URL}${detail}/edit`);
  await a.fill('#notes', marker);
  await Promise.all([a.waitForLoadState('load'), a.click('form.editor-form button[type=submit]')]);
  assert.match(await a.textContent('[role=status]'), /Entwurf wurde gespeichert/);
  await Promise.all([a.waitForLoadState('load'), a.click(`form[action="${detail}/submit"] button`)]);
  // The author's own approval is refused.
  await Promise.all([a.waitForLoadState('load'), a.click(`form[action="${detail}/approve"] button`)]);
  assert.match(await a.textContent('[role=alert]'), /eigene Änderung nicht freigeben/);
  const pub = await author.newPage();
  await pub.goto(`${BASE_URL}/leistungen/hundesteuer-anmeldung`);
  assert.ok(!(await pub.content()).includes(marker), 'not public before approval');

  const reviewer = await browser.newContext({ javaScriptEnabled: false, locale: 'de-DE' });
  const b = await reviewer.newPage();
  await login(b, 'redaktion2@musterstadt.example');
  await b.goto(`${BASE_URL}${detail}`);
  await Promise.all([b.waitForLoadState('load'), b.click(`form[action="${detail}/approve"] button`)]);
  assert.match(await b.textContent('[role=status]'), /freigegeben/);
  await pub.goto(`${BASE_URL}/leistungen/hundesteuer-anmeldung`);
  assert.ok((await pub.content()).includes(marker), 'public after approval');
  // The diff shows the new text.
  await b.click('table a[href*="/diff"]');
  await b.waitForLoadState('load');
  const inserted = (await b.locator('ins').allTextContents()).join(' ');
  assert.ok(inserted.includes(stamp), `diff marks the new text as inserted: ${inserted}`);
  const diffUrl = b.url();
  await author.close();
  await reviewer.close();

  // The diff page and the refused-approval state pass axe too (axe needs JavaScript).
  for (const lang of ['de', 'en']) {
    const ctx = await browser.newContext({ bypassCSP: true, locale: 'de-DE' });
    const p = await ctx.newPage();
    await p.goto(`${BASE_URL}/?lang=${lang}`);
    await login(p, 'redaktion2@musterstadt.example');
    await p.goto(diffUrl);
    await p.screenshot({ path: shotName('/staff/diff', lang), fullPage: true });
    let v = await axe(p);
    assert.deepEqual(v, [], `diff ${JSON.stringify(v, null, 2)}`);
    await p.goto(`${BASE_URL}${detail}`);
    v = await axe(p);
    assert.deepEqual(v, [], `detail ${JSON.stringify(v, null, 2)}`);
    await ctx.close();
  }
});
