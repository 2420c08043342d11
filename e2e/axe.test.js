// Every page passes axe-core with zero violations, in German and English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, axe, login, BASE_URL, LANGS, shotName, formatViolations, assertNoViolations } from './browser.js';

const PUBLIC_PAGES = ['/', '/impressum', '/datenschutz', '/barrierefreiheit', '/login', '/maengel', '/maengel/melden', '/gibt-es-nicht'];
const statusOf = (path) => (path === '/gibt-es-nicht' ? 404 : 200);
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// Fails with one readable block per page and rule (id, impact, help, targets).
function assertClean(failures) {
  assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
}

for (const lang of LANGS) {
  test(`public pages have no axe violations (${lang})`, async () => {
    const context = await browser.newContext({ bypassCSP: true, locale: 'de-DE' });
    const page = await context.newPage();
    const failures = [];
    for (const path of PUBLIC_PAGES) {
      const response = await page.goto(`${BASE_URL}${path}?lang=${lang}`);
      assert.equal(response.status(), statusOf(path), `${path}?lang=${lang}: HTTP status`);
      assert.equal(await page.getAttribute('html', 'lang'), lang, `${path}?lang=${lang}: <html lang>`);
      await page.screenshot({ path: shotName(path, lang), fullPage: true });
      const violations = await axe(page);
      if (violations.length) failures.push({ path: `${path}?lang=${lang}`, violations });
    }
    await context.close();
    assertClean(failures);
  });

  test(`staff pages have no axe violations (${lang})`, async () => {
    const context = await browser.newContext({ bypassCSP: true, locale: 'de-DE' });
    const page = await context.newPage();
    const failures = [];
    await page.goto(`${BASE_URL}/?lang=${lang}`);
    // Wrong password: the login page with its alert.
    await login(page, 'redaktion@musterstadt.example', 'falsch');
    assert.equal(await page.locator('[role=alert]').count(), 1, 'wrong password: one [role=alert]');
    let violations = await axe(page);
    if (violations.length) failures.push({ path: '/login (wrong password)', violations });
    // Field errors.
    await login(page, 'kein-at', '');
    violations = await axe(page);
    if (violations.length) failures.push({ path: '/login (field errors)', violations });
    await page.screenshot({ path: shotName('/login', lang, '-errors'), fullPage: true });
    await login(page, 'sachbearbeitung@musterstadt.example');
    assert.match(page.url(), /\/staff$/, 'login as sachbearbeitung reaches /staff');
    assert.equal(await page.getAttribute('html', 'lang'), lang, '/staff: <html lang>');
    await page.screenshot({ path: shotName('/staff', lang), fullPage: true });
    violations = await axe(page);
    if (violations.length) failures.push({ path: '/staff', violations });
    // A staff list of the Mängelmelder.
    await page.goto(`${BASE_URL}/staff/maengel`);
    assert.equal(await page.getAttribute('html', 'lang'), lang, '/staff/maengel: <html lang>');
    violations = await axe(page);
    if (violations.length) failures.push({ path: '/staff/maengel', violations });
    // Public pages in the logged-in state (header shows logout), and the 404 page.
    for (const path of ['/', '/impressum', '/gibt-es-nicht']) {
      await page.goto(`${BASE_URL}${path}`);
      violations = await axe(page);
      if (violations.length) failures.push({ path: `${path} (logged in)`, violations });
    }
    await context.close();
    assertClean(failures);
  });
}

// KERN follows the OS colour scheme on its own (prefers-color-scheme: dark turns the page background black);
// text and links that KERN does not style must still be readable then.
for (const lang of LANGS) {
  test(`public pages have no axe violations with the OS in dark mode (${lang})`, async () => {
    const context = await browser.newContext({ bypassCSP: true, locale: 'de-DE', colorScheme: 'dark' });
    const page = await context.newPage();
    try {
      await assertNoViolations(page, PUBLIC_PAGES, {
        query: `lang=${lang}`,
        label: `dark mode, ${lang}`,
        status: statusOf,
        shot: (path) => shotName(path, lang, '-dark'),
      });
    } finally {
      await context.close();
    }
  });
}
