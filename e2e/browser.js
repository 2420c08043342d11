// Shared helpers: Debian chromium through playwright-core (never a downloaded browser).
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const require = createRequire(import.meta.url);
export const AXE_PATH = require.resolve('axe-core/axe.min.js');
export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const PASSWORD = 'demo';
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
