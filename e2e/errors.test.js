// The error pages a browser can meet, with axe in German and English: 403 (a clerk opens an admin page),
// 429 (the login limit of an account; the draft limit of an address) and 500 (a stored file the file store
// cannot open).
//
// The limits are counted per account and per client address. To leave the budget of 127.0.0.1, which every
// other test logs in from, untouched, the attempts that exhaust a limit come from other loopback addresses,
// one per limit (so only the limit meant is reached).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readdirSync, readFileSync, writeFileSync, unlinkSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { launch, login, newContext, BASE_URL, LANGS, PASSWORD, formatViolations, check, start, fillToReview, payIfAsked } from './browser.js';

const TITLE = {
  de: { 403: 'Zugriff verweigert', 429: 'Zu viele Anfragen', 500: 'Technischer Fehler' },
  en: { 403: 'Access denied', 429: 'Too many requests', 500: 'Technical error' },
};
const RATE_LIMITED = { de: /Zu viele Anmeldeversuche/, en: /Too many login attempts/ };

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/// One HTTP request to the demo from the loopback address `from`; `jar` keeps the session cookie.
function request(from, method, path, jar, form = null) {
  const url = new URL(`${BASE_URL}${path}`);
  const body = form ? new URLSearchParams(form).toString() : null;
  const headers = {};
  if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  if (body) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) });
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, localAddress: from }, (res) => {
      for (const c of res.headers['set-cookie'] ?? []) {
        const [pair] = c.split(';');
        const i = pair.indexOf('=');
        jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

function csrfOf(html) {
  const m = html.match(/name="csrf_token" value="([^"]+)"/);
  assert.ok(m, 'the page carries a csrf_token');
  return m[1];
}

/// Posts `form` to `path` (a form page with a CSRF token) from the loopback address `from` until the
/// answer is 429; returns that answer.
async function exhaust(from, path, form) {
  const jar = new Map();
  let token = csrfOf((await request(from, 'GET', path, jar)).text);
  for (let attempt = 0; attempt < 40; attempt++) {
    const r = await request(from, 'POST', path, jar, { ...form, csrf_token: token });
    if (r.status === 429) return r;
    assert.ok(r.status < 500, `${path}: attempt ${attempt + 1} answered ${r.status}`);
    if (r.text.includes('csrf_token')) token = csrfOf(r.text);
  }
  assert.fail(`${path}: no 429 after 40 attempts`);
}

function assertClean(failures) {
  assert.ok(failures.length === 0, `axe found violations:\n${formatViolations(failures)}`);
}

test('403: a clerk opening an admin page gets the error page (de, en)', async () => {
  const failures = [];
  for (const lang of LANGS) {
    const context = await newContext(browser, lang, { bypassCSP: true });
    const page = await context.newPage();
    await login(page, 'sachbearbeitung@musterstadt.example');
    const r = await page.goto(`${BASE_URL}/staff/templates`);
    assert.equal(r.status(), 403, `${lang}: /staff/templates as a clerk`);
    assert.equal((await page.textContent('h1')).trim(), TITLE[lang][403]);
    await check(page, '403 /staff/templates', failures);
    await context.close();
  }
  assertClean(failures);
});

test('429: the login limit of an account, for staff and citizen logins (de, en)', async () => {
  // A throwaway address: no account needs it, so exhausting its limit cannot lock out another test.
  const email = `limit-${Date.now()}@e2e.example`;
  const failures = [];
  for (const lang of LANGS) {
    const context = await newContext(browser, lang, { bypassCSP: true });
    const page = await context.newPage();
    for (const [path, label, from] of [['/login', 'staff login', '127.0.0.2'], ['/konto/anmelden', 'account login', '127.0.0.3']]) {
      await page.goto(`${BASE_URL}${path}`);
      await page.fill('#email', email);
      await page.fill('#password', PASSWORD);
      // The limit refills one attempt every few seconds: exhaust it right before the browser's attempt.
      await exhaust(from, path, { email, password: 'falsch' });
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === path),
        page.click(`form[action^="${path}"] button[type=submit]`),
      ]);
      await page.waitForLoadState('load');
      assert.equal(response.status(), 429, `${lang}: ${label} after the limit`);
      assert.match(await page.textContent('[role=alert]'), RATE_LIMITED[lang], `${lang}: ${label} says why`);
      await check(page, `429 ${label}`, failures);
    }
    await context.close();
  }
  assertClean(failures);
});

test('429: the error page for too many new applications from one address (de, en)', async () => {
  // The limit counts per address, so the browser (127.0.0.1) cannot reach it without blocking the other
  // tests. The page the server answers 127.0.0.4 is shown in the browser at its own URL instead;
  // stylesheets and fonts come from the server as usual.
  const path = '/leistungen/gewerbe-anmeldung/antrag';
  const failures = [];
  for (const lang of LANGS) {
    const answer = await exhaust('127.0.0.4', `${path}?lang=${lang}`, {});
    const context = await newContext(browser, lang, { bypassCSP: true });
    const page = await context.newPage();
    await page.route(`${BASE_URL}${path}?shown=429`, (route) => route.fulfill({ status: 429, contentType: 'text/html; charset=utf-8', body: answer.text }));
    const r = await page.goto(`${BASE_URL}${path}?shown=429`);
    assert.equal(r.status(), 429);
    assert.equal((await page.textContent('h1')).trim(), TITLE[lang][429]);
    await check(page, '429 new application', failures);
    await context.close();
  }
  assertClean(failures);
});

/// Every file below `dir`.
function* filesBelow(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesBelow(path);
    else if (entry.isFile()) yield path;
  }
}

test('500: a stored file the file store cannot open gives the error page (de, en)', async (t) => {
  // The test reaches into the demo's data folder; .ci/run passes it as E2E_DATA_DIR.
  const dataDir = process.env.E2E_DATA_DIR;
  if (!dataDir) {
    assert.ok(process.env.CI !== 'true', 'E2E_DATA_DIR must name the demo data folder under CI');
    t.skip('E2E_DATA_DIR is not set');
    return;
  }
  const marker = `e2e-500-${Date.now()}`;
  const pdf = Buffer.from(`%PDF-1.4\n%${marker}\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n`, 'latin1');
  const citizen = await browser.newContext({ locale: 'de-DE' });
  const page = await citizen.newPage();
  await start(page, 'gewerbe-anmeldung');
  assert.ok(await fillToReview(page, { upload: { name: 'kaputt.pdf', mimeType: 'application/pdf', buffer: pdf } }), 'the form has a file field');
  await Promise.all([page.waitForLoadState('load'), page.click('#submit-application')]);
  await payIfAsked(page);
  const reference = (await page.textContent('#reference')).trim();
  await citizen.close();

  // The stored upload, found by its content; a symlink to itself cannot be opened (ELOOP).
  const stored = [...filesBelow(join(dataDir, 'files'))].find((f) => readFileSync(f).equals(pdf));
  assert.ok(stored, `the upload is stored below ${dataDir}/files`);
  unlinkSync(stored);
  symlinkSync(basename(stored), stored);

  const failures = [];
  let href;
  try {
    for (const lang of LANGS) {
      const context = await newContext(browser, lang, { bypassCSP: true });
      const clerk = await context.newPage();
      await login(clerk, 'sachbearbeitung@musterstadt.example');
      await clerk.goto(`${BASE_URL}/staff/cases?q=${reference}`);
      await Promise.all([clerk.waitForLoadState('load'), clerk.click(`a:text("${reference}")`)]);
      // The upload's link (the case also holds the stored receipt).
      href = await clerk.locator('main a[href*="/files/"]', { hasText: 'kaputt' }).first().getAttribute('href');
      const r = await clerk.goto(`${BASE_URL}${href}`);
      assert.equal(r.status(), 500, `${lang}: the broken file answers 500`);
      assert.equal((await clerk.textContent('h1')).trim(), TITLE[lang][500]);
      assert.match(await clerk.textContent('main'), /[0-9a-f]{12}/, `${lang}: the page names the error reference`);
      await check(clerk, '500 file download', failures);
      await context.close();
    }
  } finally {
    unlinkSync(stored);
    writeFileSync(stored, pdf);
  }
  // Repaired, the same link serves the file again: the 500 came from the broken file alone.
  const context = await browser.newContext({ locale: 'de-DE' });
  const clerk = await context.newPage();
  await login(clerk, 'sachbearbeitung@musterstadt.example');
  const again = await clerk.request.get(`${BASE_URL}${href}`);
  assert.equal(again.status(), 200);
  assert.ok((await again.body()).equals(pdf), 'the repaired file is served');
  await context.close();
  assertClean(failures);
});
