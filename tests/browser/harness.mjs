// Shared by every tests/browser/*.mjs script: Debian's Chromium driven by playwright-core, a
// running wuye (WUYE_BROWSER_BASE, set by .ci/browser), screenshots, an axe-core check and a
// tiny sequential test runner. A script imports what it needs and ends with `await run()`.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const BASE = process.env.WUYE_BROWSER_BASE || 'http://127.0.0.1:8080';
export const PASSWORD = 'wuye-demo-2026';
const SCREENSHOTS = process.env.WUYE_SCREENSHOTS || path.resolve(import.meta.dirname, '../../target/browser-screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

const tests = [];

/** Registers a test: `test('owner pays a bill', async ({ page }) => {...})`. */
export function test(name, body) {
  tests.push({ name, body });
}

/** Throws with `message` unless `condition` holds. */
export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** A fresh browser context per test: a phone-sized window, Chinese, no stored state. */
async function freshPage(browser) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', acceptDownloads: true });
  if (process.env.WUYE_ASSETS_FROM_DISK) await assetsFromDisk(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(`console: ${message.text()}`); });
  // A 4xx may be the refusal a test asks for; a 5xx is always the server's fault.
  page.on('response', (response) => { if (response.status() >= 500) errors.push(`server error: ${response.status()} ${response.request().method()} ${response.url()}`); });
  return { context, page, errors };
}

/** While editing pages: serves /app/ and its assets from src/web/assets instead of the ones
 *  compiled into the running binary, so a change shows without rebuilding wuye. */
async function assetsFromDisk(context) {
  const dir = path.resolve(import.meta.dirname, '../../src/web/assets');
  const types = { js: 'text/javascript', css: 'text/css', svg: 'image/svg+xml', html: 'text/html' };
  await context.route(/\/app\/(assets\/[^?#]+)?(\?.*)?$/, async (route) => {
    const name = new URL(route.request().url()).pathname.replace(/^\/app\/(assets\/)?/, '') || 'index.html';
    // The server's own answer lends its headers (the page's Content-Security-Policy among them).
    const response = await route.fetch();
    route.fulfill({ response, path: path.join(dir, name), contentType: `${types[name.split('.').pop()]}; charset=utf-8` });
  });
}

/** Runs every registered test in order and exits non-zero if any failed. */
export async function run() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // Root in CI containers cannot use Chromium's sandbox.
    args: ['--no-sandbox'],
  });
  let failed = 0;
  for (const { name, body } of tests) {
    const { context, page, errors } = await freshPage(browser);
    const started = Date.now();
    try {
      await body({ page, context });
      // A 4xx the page expected shows in its alert region; anything the console calls an
      // error besides failed requests is a bug in the page.
      const bugs = errors.filter((e) => !e.includes('Failed to load resource'));
      check(bugs.length === 0, `errors in the page:\n  ${bugs.join('\n  ')}`);
      console.log(`ok    ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL  ${name}\n      ${String(error.stack || error).split('\n').join('\n      ')}`);
      await screenshot(page, `FAILED-${name.replace(/[^\w-]+/g, '-')}`).catch(() => {});
    }
    await context.close();
  }
  await browser.close();
  console.log(`${tests.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

/** Saves a full-page screenshot as target/browser-screenshots/NAME.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Waits until the page on show has filled in (the shell marks <main> busy meanwhile). */
export async function settled(page) {
  await page.locator('main:not([aria-busy="true"]) h1').waitFor();
}

/** Opens a page of the app by its hash route ('/owner') and waits for it to fill in. */
export async function open(page, route) {
  await page.goto(`${BASE}/app/#${route}`);
  await settled(page);
}

/** Logs in through the login form and waits for the first page after it. */
export async function login(page, who, password = PASSWORD) {
  await page.goto(`${BASE}/app/#/login`);
  await page.getByLabel(/手机号或电子邮箱|Mobile number or email/).fill(who);
  await page.getByLabel(/^(密码|Password)$/).fill(password);
  await page.getByRole('button', { name: /^(登录|Log in)$/ }).click();
  await page.waitForFunction(() => !location.hash.startsWith('#/login') && sessionStorage.getItem('wuye.session'));
  await settled(page);
}

/** Fails on any serious or critical axe-core violation of the page as it is now, and on any
 *  i18n key shown instead of its text. */
export async function accessible(page, what) {
  // Evaluated through the browser's debugging protocol: the page's Content-Security-Policy
  // refuses an inserted <script>, as it should.
  await page.evaluate(readFileSync(AXE, 'utf8'));
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const { violations } = await axe.run(document, { resultTypes: ['violations'] });
    return violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `${what}: accessibility violations:\n${bad.map((v) => `  ${v.impact} ${v.id}: ${v.help} at ${v.nodes.join(', ')}`).join('\n')}`);
  const text = await page.locator('body').innerText();
  const keys = text.match(/\b(?:app|nav|bar|role|login|home|common|error|notfound|otherrole|owner|staff|committee)\.[a-z_]+(?:\.[a-z_]+)*\b/g);
  check(!keys, `${what}: untranslated keys shown: ${keys}`);
}

/** The API as a demo account, for what the test needs set up or checked behind the page. */
export async function as(login) {
  const answer = await fetch(`${BASE}/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login, password: PASSWORD }) });
  const { token, me } = await answer.json();
  return {
    me,
    async call(method, path, body) {
      const r = await fetch(`${BASE}${path}`, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
      const json = await r.json();
      check(r.ok, `${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
      return json;
    },
  };
}

/** The text of the alert region if it is showing, else ''. */
export async function alertText(page) {
  const box = page.locator('#alert');
  return (await box.isVisible()) ? box.innerText() : '';
}
