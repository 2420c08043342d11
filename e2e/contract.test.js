// The page contract the server promises: layout landmarks and links on every page, the login form's
// fields, the login redirect, and every demo user reaching the staff area.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, login, BASE_URL, PASSWORD } from './browser.js';

const PAGES = ['/', '/impressum', '/datenschutz', '/barrierefreiheit', '/login', '/gibt-es-nicht'];
const USERS = [
  ['redaktion@musterstadt.example', 'Hauptamt'],
  ['sachbearbeitung@musterstadt.example', 'Bürgerbüro'],
  ['admin@musterstadt.example', 'Hauptamt'],
  ['steuerung@musterstadt.example', 'Hauptamt'],
];
let browser;

before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/// What the layout contract needs, read from the DOM in one go.
async function layoutFacts(page) {
  return page.evaluate(() => {
    const focusable = [...document.querySelectorAll(
      'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])',
    )];
    const first = focusable[0];
    const header = document.querySelector('header');
    const footer = document.querySelector('footer');
    const footerHrefs = footer ? [...footer.querySelectorAll('a[href]')].map((a) => new URL(a.href).pathname) : [];
    return {
      lang: document.documentElement.lang,
      title: document.title.trim(),
      firstFocusable: first ? `${first.tagName.toLowerCase()}.${first.className}[href=${first.getAttribute('href')}]` : null,
      mains: document.querySelectorAll('main').length,
      mainId: document.querySelector('main')?.id ?? null,
      headerText: header?.textContent.replace(/\s+/g, ' ').trim() ?? null,
      footerHrefs,
      langLinks: [...document.querySelectorAll('a[hreflang]')].map((a) => a.getAttribute('hreflang')),
      h1: document.querySelectorAll('h1').length,
    };
  });
}

for (const lang of ['de', 'en']) {
  test(`layout contract on every public page (${lang})`, async () => {
    const context = await browser.newContext({ locale: 'de-DE' });
    const page = await context.newPage();
    const problems = [];
    // Every stylesheet, font and image the pages load must be served (a broken KERN font path is silent otherwise).
    page.on('response', (r) => { if (r.status() >= 400 && r.request().resourceType() !== 'document') problems.push(`${r.url()}: HTTP ${r.status()}`); });
    page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText}`));
    for (const path of PAGES) {
      const response = await page.goto(`${BASE_URL}${path}?lang=${lang}`);
      const f = await layoutFacts(page);
      const expectedStatus = path === '/gibt-es-nicht' ? 404 : 200;
      const other = lang === 'de' ? 'en' : 'de';
      const check = (ok, what) => { if (!ok) problems.push(`${path}?lang=${lang}: ${what}`); };
      check(response.status() === expectedStatus, `status ${response.status()}, expected ${expectedStatus}`);
      check(f.lang === lang, `<html lang="${f.lang}">, expected "${lang}"`);
      check(f.title.length > 0, 'empty <title>');
      check(f.firstFocusable === 'a.skip-link[href=#main]', `first focusable element is ${f.firstFocusable}, expected a.skip-link[href=#main]`);
      check(f.mains === 1 && f.mainId === 'main', `expected one <main id="main">, found ${f.mains} (id=${f.mainId})`);
      check(f.h1 === 1, `expected one <h1>, found ${f.h1}`);
      check(f.headerText?.includes('Musterstadt'), `<header> does not show "Musterstadt": ${JSON.stringify(f.headerText)}`);
      for (const legal of ['/impressum', '/datenschutz', '/barrierefreiheit']) {
        check(f.footerHrefs.includes(legal), `<footer> has no link to ${legal} (has ${f.footerHrefs.join(', ')})`);
      }
      check(f.langLinks.includes(other), `no language switch link a[hreflang=${other}] (found ${f.langLinks.join(', ') || 'none'})`);
      if (path === '/') {
        const fonts = await page.evaluate(async () => {
          await document.fonts.ready;
          return [...document.fonts].filter((font) => font.status === 'loaded').map((font) => font.family.replace(/"/g, ''));
        });
        check(fonts.includes('Fira Sans'), `KERN font Fira Sans not loaded (loaded: ${fonts.join(', ') || 'none'})`);
      }
    }
    await context.close();
    assert.ok(problems.length === 0, `layout contract broken:\n  ${problems.join('\n  ')}`);
  });
}

test('login form has email, password, csrf_token and a submit button; success answers 303 to /staff', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/login`);
  const form = page.locator('form[method=post][action="/login"]');
  assert.equal(await form.count(), 1, 'one <form method="post" action="/login">');
  assert.equal(await form.locator('input[name=email]').count(), 1, 'input name=email');
  assert.equal(await form.locator('input[name=password][type=password]').count(), 1, 'input name=password type=password');
  const csrf = form.locator('input[type=hidden][name=csrf_token]');
  assert.equal(await csrf.count(), 1, 'hidden input name=csrf_token');
  const token = await csrf.getAttribute('value');
  assert.ok(token && token.length >= 16, `csrf_token has a value (got ${JSON.stringify(token)})`);
  assert.equal(await form.locator('button[type=submit]').count(), 1, 'button[type=submit]');
  // The same POST the browser would send, without following the redirect (cookies shared with the page).
  const response = await page.request.post(`${BASE_URL}/login`, {
    form: { email: 'redaktion@musterstadt.example', password: PASSWORD, csrf_token: token },
    headers: { Origin: new URL(BASE_URL).origin, Referer: `${BASE_URL}/login` },
    maxRedirects: 0,
  });
  assert.equal(response.status(), 303, 'successful login answers 303 See Other');
  assert.match(response.headers().location ?? '', /\/staff$/, 'and redirects to /staff');
  await context.close();
});

test('every demo user logs in, sees their email and org unit on /staff, and logs out', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  for (const [email, unit] of USERS) {
    await login(page, email);
    assert.match(page.url(), /\/staff$/, `${email}: reaches /staff`);
    const main = await page.textContent('main');
    assert.ok(main.includes(email), `${email}: /staff shows the email`);
    assert.ok(main.includes(unit), `${email}: /staff shows the org unit ${unit}`);
    const logout = page.locator('form[method=post][action="/logout"]');
    assert.ok(await logout.count() >= 1, `${email}: a logout form`);
    assert.ok(await logout.first().locator('input[type=hidden][name=csrf_token]').count() === 1, `${email}: logout form has csrf_token`);
    await Promise.all([page.waitForLoadState('load'), logout.first().locator('button[type=submit]').click()]);
    assert.doesNotMatch(page.url(), /\/staff$/, `${email}: logout leaves /staff`);
  }
  await context.close();
});
