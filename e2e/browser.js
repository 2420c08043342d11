import assert from 'node:assert/strict';
// Shared helpers: Debian chromium through playwright-core (never a downloaded browser).
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const require = createRequire(import.meta.url);
export const AXE_PATH = require.resolve('axe-core/axe.min.js');
export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const PASSWORD = 'demo';
/// A minimal PDF for uploads (the server types files by content).
export const PDF = Buffer.from('%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n', 'latin1');
/// Every page is checked in both languages.
export const LANGS = ['de', 'en'];
export const SCREENSHOTS = new URL('./screenshots/', import.meta.url).pathname;
mkdirSync(SCREENSHOTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/// Runs axe-core (WCAG 2.0/2.1 A and AA + best practices) and returns readable violations.
export async function axe(page) {
  await page.addScriptTag({ path: AXE_PATH });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    return await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.length,
    targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
  }));
}

/// Readable report for assertion messages: one block per page, one line per rule.
/// `failures` is a list of { path, violations } (violations as returned by `axe`).
export function formatViolations(failures) {
  const lines = [];
  for (const { path, violations } of failures) {
    lines.push(`${path}: ${violations.length} axe rule(s) violated`);
    for (const v of violations) {
      const more = v.nodes > v.targets.length ? ` (+${v.nodes - v.targets.length} more)` : '';
      lines.push(`  - ${v.id} [${v.impact}] ${v.help}`);
      lines.push(`      on: ${v.targets.join(' | ')}${more}`);
    }
  }
  return lines.join('\n');
}

/// Runs axe on each path (appending `query`) and fails with a readable report listing every violation.
export async function assertNoViolations(page, paths, { query = '', label = '', shot = null, status = () => 200 } = {}) {
  const failures = [];
  for (const path of paths) {
    const url = `${BASE_URL}${path}${query ? (path.includes('?') ? '&' : '?') + query : ''}`;
    const response = await page.goto(url);
    if (response.status() !== status(path)) {
      failures.push({ path, violations: [{ id: 'http-status', impact: 'n/a', help: `expected ${status(path)}, got ${response.status()}`, nodes: 0, targets: [] }] });
      continue;
    }
    if (shot) await page.screenshot({ path: shot(path), fullPage: true });
    const violations = await axe(page);
    if (violations.length) failures.push({ path: `${path}${label ? ` (${label})` : ''}`, violations });
  }
  if (failures.length) throw new Error(`axe found violations:\n${formatViolations(failures)}`);
}

// The language each context was made for (see `newContext`); `check` compares it with <html lang>.
const LANG_OF = new WeakMap();

/// A browser context whose pages come in `lang`: it carries the language cookie the switch link sets.
export async function newContext(browser, lang, options = {}) {
  const context = await browser.newContext({ locale: 'de-DE', ...options });
  await context.addCookies([{ name: 'rathaus_lang', value: lang, url: BASE_URL }]);
  LANG_OF.set(context, lang);
  return context;
}

export async function login(page, email, password = PASSWORD) {
  await page.goto(`${BASE_URL}/login`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/login"] button[type=submit]')]);
}

export function shotName(path, lang, suffix = '') {
  const base = path === '/' ? 'home' : path.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '_');
  return `${SCREENSHOTS}${base}${suffix}.${lang}.png`;
}

// Wizard helpers shared by the form and loop walks.

/// Runs axe on the current page; in a context from `newContext` it also checks <html lang>.
export async function check(page, label, failures) {
  const lang = LANG_OF.get(page.context());
  const path = lang ? `${label} (${lang})` : label;
  if (lang) {
    const actual = await page.getAttribute('html', 'lang');
    if (actual !== lang) {
      failures.push({ path, violations: [{ id: 'html-lang', impact: 'n/a', help: `expected <html lang="${lang}">, got "${actual}"`, nodes: 0, targets: [] }] });
    }
  }
  const violations = await axe(page);
  if (violations.length) failures.push({ path, violations });
}

export async function start(page, slug, lang = 'de') {
  await page.goto(`${BASE_URL}/leistungen/${slug}?lang=${lang}`);
  await Promise.all([page.waitForLoadState('load'), page.click(`a[href="/leistungen/${slug}/antrag"]`)]);
  await Promise.all([page.waitForLoadState('load'), page.click('form[action$="/antrag"] button[type=submit]')]);
  assert.match(page.url(), /\/antrag\/rh_[0-9a-f]+\/schritt\/1$/, `${slug}: draft started`);
}

export async function next(page) {
  await Promise.all([page.waitForLoadState('load'), page.click('.wizard-buttons button[value=next]')]);
}

/// Fills every empty visible input of the current step with a plausible value.
export async function fillGenerically(page, fixInvalid = false) {
  await page.evaluate((fixInvalid) => {
    const set = (el, v) => { el.value = v; };
    for (const el of document.querySelectorAll('#step-fields input, #step-fields select, #step-fields textarea')) {
      if (el.type === 'hidden' || el.type === 'file' || el.disabled) continue;
      if (el.type === 'radio' || el.type === 'checkbox') {
        const group = document.querySelectorAll(`input[name="${CSS.escape(el.name)}"]`);
        if (![...group].some((g) => g.checked)) group[0].checked = true;
        continue;
      }
      if (fixInvalid && el.getAttribute('aria-invalid') === 'true') {
        // A generic value did not fit this field's range or format: try another plausible one.
        // Text: digits as long as the field allows (FIM keys such as the AGS need 8 or 12).
        const max = Number(el.getAttribute('maxlength') || 0);
        el.value = (el.inputMode === 'numeric' || el.inputMode === 'decimal') ? '2000' : '1'.repeat(max || 12);
        continue;
      }
      if (el.value) continue;
      if (el.tagName === 'SELECT') { if (el.options.length > 1) el.selectedIndex = 1; continue; }
      if (el.type === 'date') { set(el, '2020-01-31'); continue; }
      if (el.type === 'email') { set(el, 'max@example.org'); continue; }
      if (el.type === 'tel') { set(el, '030 1234567'); continue; }
      if (el.inputMode === 'numeric' || el.inputMode === 'decimal') { set(el, '1'); continue; }
      const max = Number(el.getAttribute('maxlength') || 0);
      set(el, max && max < 6 ? 'M'.repeat(max) : 'Muster');
    }
  }, fixInvalid);
}


/// Walks every step of the started form, filling what is empty, until the review page.
/// With `upload` ({ name, mimeType, buffer }), attaches it to the first file field on the way;
/// returns whether it did.
export async function fillToReview(page, { upload = null } = {}) {
  let attached = false;
  for (let guard = 0; guard < 40 && !/\/pruefen$/.test(page.url()); guard++) {
    const input = page.locator('#step-fields input[type=file]');
    if (upload && !attached && await input.count()) {
      await input.first().setInputFiles(upload);
      attached = true;
    }
    await fillGenerically(page);
    await next(page);
    if (await page.locator('#error-summary').count()) {
      await fillGenerically(page, true);
      await next(page);
    }
  }
  assert.match(page.url(), /\/pruefen$/, 'the form reaches its review page');
  return attached;
}

/// On an applicant's page that waits for its fee (pay before sending): pays at the test provider (credit card)
/// and comes back; asserts the page then shows the payment as paid. Returns whether there was anything to pay.
export async function payIfAsked(page) {
  if (!(await page.locator('#awaiting-payment').count())) return false;
  await Promise.all([page.waitForLoadState('load'), page.click('.pay-now')]);
  await page.check('#method-creditcard');
  await Promise.all([page.waitForLoadState('load'), page.click('button[value=pay]')]);
  assert.match(page.url(), /[?&]msg=paid/, `back from the provider: ${page.url()}`);
  assert.ok(await page.locator('#payments tr[data-status="paid"]').count(), 'the payment shows as paid');
  assert.equal(await page.locator('#awaiting-payment').count(), 0, 'the application is received');
  return true;
}
