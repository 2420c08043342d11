// Every page passes axe-core with zero violations, in German and English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, login, BASE_URL, shotName } from './browser.js';

const PUBLIC_PAGES = ['/', '/impressum', '/datenschutz', '/barrierefreiheit', '/login', '/gibt-es-nicht'];
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const lang of ['de', 'en']) {
  test(`public pages have no axe violations (${lang})`, async () => {
    const context = await browser.newContext({ bypassCSP: true, locale: 'de-DE' });
    const page = await context.newPage();
    const failures = [];
    for (const path of PUBLIC_PAGES) {
      const response = await page.goto(`${BASE_URL}${path}?lang=${lang}`);
      const expected = path === '/gibt-es-nicht' ? 404 : 200;
      assert.equal(response.status(), expected, `${path} status`);
      assert.equal(await page.getAttribute('html', 'lang'), lang, `${path} html lang`);
      await page.screenshot({ path: shotName(path, lang), fullPage: true });
      const violations = await axe(page);
      if (violations.length) failures.push({ path, violations });
    }
    assert.deepEqual(failures, [], JSON.stringify(failures, null, 2));
    await context.close();
  });

  test(`staff pages have no axe violations (${lang})`, async () => {
    const context = await browser.newContext({ bypassCSP: true, locale: 'de-DE' });
    const page = await context.newPage();
    await page.goto(`${BASE_URL}/?lang=${lang}`);
    // Wrong password: the login page with its alert.
    await login(page, 'redaktion@musterstadt.example', 'falsch');
    assert.equal(await page.locator('[role=alert]').count(), 1);
    let violations = await axe(page);
    assert.deepEqual(violations, [], `/login (error) ${JSON.stringify(violations, null, 2)}`);
    // Field errors.
    await login(page, 'kein-at', '');
    violations = await axe(page);
    assert.deepEqual(violations, [], `/login (field errors) ${JSON.stringify(violations, null, 2)}`);
    await page.screenshot({ path: shotName('/login', lang, '-errors'), fullPage: true });
    await login(page, 'sachbearbeitung@musterstadt.example');
    assert.match(page.url(), /\/staff$/);
    await page.screenshot({ path: shotName('/staff', lang), fullPage: true });
    violations = await axe(page);
    assert.deepEqual(violations, [], `/staff ${JSON.stringify(violations, null, 2)}`);
    // Public pages in the logged-in state (header shows logout).
    for (const path of ['/', '/impressum']) {
      await page.goto(`${BASE_URL}${path}`);
      violations = await axe(page);
      assert.deepEqual(violations, [], `${path} (logged in) ${JSON.stringify(violations, null, 2)}`);
    }
    await context.close();
  });
}
