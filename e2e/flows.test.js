// Keyboard-only use, use without JavaScript, login errors and the language switch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, login, BASE_URL } from './browser.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('without JavaScript: pages load, login and logout work', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: 'de-DE' });
  const page = await context.newPage();
  for (const path of ['/', '/impressum', '/datenschutz', '/barrierefreiheit', '/login']) {
    const r = await page.goto(`${BASE_URL}${path}`);
    assert.equal(r.status(), 200, path);
    assert.ok(await page.locator('main#main h1').count(), `${path} has a heading`);
  }
  await login(page, 'admin@musterstadt.example');
  assert.match(page.url(), /\/staff$/);
  assert.match(await page.textContent('main'), /admin@musterstadt\.example/);
  assert.match(await page.textContent('main'), /Hauptamt/);
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/logout"] button[type=submit]')]);
  assert.match(page.url(), /\/login\?logged_out=1$/);
  const r = await page.goto(`${BASE_URL}/staff`);
  assert.match(page.url(), /\/login$/, 'logged out: staff area sends to login');
  assert.equal(r.status(), 200);
  await context.close();
});

test('keyboard only: skip link first, then log in with Tab, typing and Enter', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/login?lang=de`);
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => ({ cls: document.activeElement.className, href: document.activeElement.getAttribute('href') }));
  assert.deepEqual(first, { cls: 'skip-link', href: '#main' });
  assert.ok(await page.locator('.skip-link').isVisible(), 'skip link becomes visible on focus');
  await page.keyboard.press('Enter');
  // Tab from the main content to the email field.
  let guard = 0;
  while ((await page.evaluate(() => document.activeElement.id)) !== 'email' && guard++ < 30) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await page.evaluate(() => document.activeElement.id), 'email');
  await page.keyboard.type('redaktion@musterstadt.example');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
  await page.keyboard.type('demo');
  await Promise.all([page.waitForURL(/\/staff$/), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('main'), /redaktion@musterstadt\.example/);
  // The focused element is always visible: Tab to the logout button, which then shows a focus outline.
  const outline = () => page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor };
  });
  const onLogout = () => page.evaluate(() => !!document.activeElement?.closest('form[action="/logout"]'));
  guard = 0;
  while (!(await onLogout()) && guard++ < 40) await page.keyboard.press('Tab');
  assert.ok(await onLogout(), 'Tab reaches the logout button');
  assert.equal(await page.evaluate(() => document.activeElement.matches(':focus-visible')), true, 'keyboard focus is :focus-visible');
  const focused = await outline();
  assert.notEqual(focused.style, 'none', `focused logout button has an outline (${JSON.stringify(focused)})`);
  assert.ok(focused.width >= 2, `outline at least 2px wide (${JSON.stringify(focused)})`);
  assert.doesNotMatch(focused.color, /^transparent$|rgba\(.*,\s*0\)$/, `outline colour is not transparent (${JSON.stringify(focused)})`);
  // Without focus the button has no outline: the outline is the focus indicator, not decoration.
  await page.evaluate(() => { const b = document.activeElement; b.blur(); window.__logout = b; });
  const blurred = await page.evaluate(() => getComputedStyle(window.__logout).outlineStyle);
  assert.equal(blurred, 'none', 'no outline without focus');
  await context.close();
});

test('wrong password: status 401 and an alert in German and English', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  for (const [lang, message] of [['de', /E-Mail oder Passwort/], ['en', /email or password/]]) {
    await page.goto(`${BASE_URL}/login?lang=${lang}`);
    await page.fill('input[name=email]', 'redaktion@musterstadt.example');
    await page.fill('input[name=password]', 'falsch');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
      page.click('form[action="/login"] button[type=submit]'),
    ]);
    await page.waitForLoadState('load');
    assert.equal(response.status(), 401, `${lang}: wrong password answers 401`);
    assert.equal(await page.getAttribute('html', 'lang'), lang, `${lang}: <html lang> after the failed login`);
    assert.match(await page.textContent('[role=alert]'), message, `${lang}: alert text`);
  }
  await context.close();
});

test('language switch link changes the language and it sticks', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/impressum`);
  assert.equal(await page.getAttribute('html', 'lang'), 'de');
  await Promise.all([page.waitForLoadState('load'), page.click('a[hreflang=en]')]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(page.url(), /\/impressum\?lang=en$/);
  await page.click('a[href="/datenschutz"]');
  await page.waitForURL(/\/datenschutz$/);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.match(await page.textContent('h1'), /Privacy policy/);
  await context.close();
});

test('a POST without CSRF token is refused', async () => {
  const context = await browser.newContext({ locale: 'de-DE' });
  const r = await context.request.post(`${BASE_URL}/login`, {
    form: { email: 'redaktion@musterstadt.example', password: 'demo' },
    maxRedirects: 0,
  });
  assert.equal(r.status(), 403);
  await context.close();
});
