// The shell of the web interface: session, API client, hash router, layout and the helpers the
// portal modules (owner.js, staff.js, committee.js) build their pages with. No framework: the
// pages are plain DOM, built with `h` so that no data is ever parsed as HTML.
import { t, lang, setLang } from './i18n.js';

export { t, lang, extend } from './i18n.js';

// The portal modules; each registers its pages with `page(...)` when imported.
const PORTALS = ['./owner.js', './staff.js', './committee.js'];

// ---------------------------------------------------------------- session

/** The login's token and who it is ({user_id, name, role, ...}), kept for this tab only. */
export function session() {
  const raw = sessionStorage.getItem('wuye.session');
  return raw ? JSON.parse(raw) : null;
}

function signIn(login) {
  sessionStorage.setItem('wuye.session', JSON.stringify({ token: login.token, me: login.me }));
}

function signOut() {
  sessionStorage.removeItem('wuye.session');
}

// ---------------------------------------------------------------- DOM helpers

/** `h('p', {class: 'x', onclick: f}, 'text', child)`: an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    // Set through the CSSOM: the Content-Security-Policy refuses inline style attributes.
    else if (name === 'style') el.style.cssText = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  // An image from imageUrl is held in memory until its object URL is revoked: once shown, it is.
  if (tag === 'img' && el.src.startsWith('blob:')) el.addEventListener('load', () => URL.revokeObjectURL(el.src), { once: true });
  return el;
}

let fieldCounter = 0;

/** A labelled form control: `field('key.of.label', 'input', {name: 'x', type: 'text'})`.
 *  `hint` (a string) is tied to the control with aria-describedby. */
export function field(labelKey, tag, attrs = {}, children = [], hint = null) {
  const id = attrs.id || `f${++fieldCounter}`;
  const hintId = hint ? `${id}-hint` : null;
  const control = h(tag, { ...attrs, id, 'aria-describedby': hintId }, children);
  return h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), hint && h('p', { class: 'hint', id: hintId }, hint), control);
}

/** A table with a caption (for screen readers) from column keys and rows of cells. */
export function table(captionKey, columnKeys, rows) {
  // A wide table scrolls sideways on a phone: its box takes the keyboard focus to be scrolled.
  return h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': t(captionKey) },
    h('table', {},
      h('caption', {}, t(captionKey)),
      h('thead', {}, h('tr', {}, columnKeys.map((key) => h('th', { scope: 'col' }, t(key))))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell)))))));
}

/** "¥106.32" from the API's decimal string. */
export function money(amount) {
  return `¥${amount}`;
}

/** A date or timestamp from the API, as the day (in the browser's zone for timestamps). */
export function day(value) {
  if (!value) return '';
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  const d = new Date(value);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Day and time of a timestamp. */
export function when(value) {
  if (!value) return '';
  const d = new Date(value);
  return `${day(value)} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// ---------------------------------------------------------------- messages

const alertBox = () => document.getElementById('alert');

/** Shows what went wrong in the alert region (read out at once by screen readers). */
export function showError(error) {
  const box = alertBox();
  const problem = error && error.problem;
  if (problem) {
    // A sentence in the page's language by the Problem's code, naming the field; the server's
    // own words (English) beneath, as the detail.
    const known = `error.code.${problem.code}`;
    let text = t(t(known) === known ? 'error.code.other' : known);
    if (problem.field) text += t('error.field', { field: problem.field });
    box.replaceChildren(h('p', {}, text), problem.message && h('div', { class: 'detail', lang: 'en' }, problem.message));
  } else {
    box.replaceChildren(h('p', {}, error instanceof TypeError ? t('error.network') : String(error && error.message || error)));
  }
  if (problem && Array.isArray(problem.rows) && problem.rows.length) {
    box.append(h('ul', {}, problem.rows.map((r) => h('li', {}, `${r.line ?? ''} ${r.field ?? ''}: ${r.message ?? ''}`))));
  }
  box.hidden = false;
  box.scrollIntoView({ block: 'nearest' });
}

export function clearError() {
  alertBox().hidden = true;
  alertBox().replaceChildren();
}

/** A calm message (saved, sent) in the polite status region. */
export function notify(text) {
  const box = document.getElementById('status');
  box.textContent = '';
  // A fresh node, so that the same message twice is announced twice.
  setTimeout(() => { box.replaceChildren(h('p', {}, text)); }, 50);
}

// ---------------------------------------------------------------- API client

/** An error answer from the API, with its JSON Problem {code, message, field, rows}. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.message);
    this.status = status;
    this.problem = problem;
  }
}

async function call(method, path, body, headers = {}) {
  const s = session();
  const init = { method, headers: { 'Accept-Language': lang() === 'en' ? 'en' : 'zh-CN', ...headers } };
  if (s) init.headers.Authorization = `Bearer ${s.token}`;
  if (body instanceof Blob) {
    init.body = body;
    init.headers['Content-Type'] = body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    let problem;
    try {
      problem = await response.json();
    } catch {
      problem = { code: String(response.status), message: response.statusText || String(response.status) };
    }
    if (response.status === 401 && s) {
      signOut();
      go('/login?expired=1');
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

/** Calls the JSON API with the session's token: `await api('GET', '/me/units')`. A failure
 *  throws an ApiError (a 401 also ends the session); pages let it reach the router, which shows
 *  its message in the alert region. */
export async function api(method, path, body, headers) {
  const response = await call(method, path, body, headers);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

/** A fresh Idempotency-Key: 128 random bits in hex (crypto.randomUUID would need HTTPS). */
export function idempotencyKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Downloads a file the API serves (a CSV) with the token: a plain link cannot send it. */
export async function download(path, fallbackName) {
  const response = await call('GET', path);
  const blob = await response.blob();
  const disposition = response.headers.get('Content-Disposition') || '';
  const name = (disposition.match(/filename="?([^";]+)"?/) || [])[1] || fallbackName;
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}

/** A text the API serves that is not JSON (a chart's SVG). */
export async function apiText(path) {
  return (await call('GET', path)).text();
}

/** An image the API serves (a ticket photo), as a URL an <img> can show. */
export async function imageUrl(path) {
  const response = await call('GET', path);
  return URL.createObjectURL(await response.blob());
}

// ---------------------------------------------------------------- pages and the router

const pages = [];

/** Registers a page. `path` like '/owner/units/:id/bills'; `roles` who may open it; `title` an
 *  i18n key (its text is the page's <h1>); `nav` true to list it in the navigation (in the
 *  order registered; paths without parameters only); `home` true for the role's first page;
 *  `render(main, params, query)` fills <main> after the heading and may throw: the message
 *  then shows in the alert region. */
export function page(path, { roles, title, nav = false, home = false, render }) {
  const names = [];
  const pattern = new RegExp('^' + path.replace(/:(\w+)/g, (_, name) => { names.push(name); return '([^/]+)'; }) + '$');
  pages.push({ path, pattern, names, roles, title, nav, home, render });
}

/** Opens a page: `go('/owner/units/3/bills')`. */
export function go(path) {
  if (location.hash === `#${path}`) route();
  else location.hash = path;
}

function current() {
  const [path, search] = (location.hash.slice(1) || '/').split('?');
  return { path, query: new URLSearchParams(search || '') };
}

function homeOf(role) {
  return pages.find((p) => p.home && p.roles.includes(role));
}

let routing = 0;

async function route() {
  const turn = ++routing;
  const { path, query } = current();
  const s = session();
  clearError();
  layout();
  const main = document.getElementById('main');
  if (!s || path === '/login') {
    if (s) return go('/');
    return loginPage(main, query);
  }
  const role = s.me.role;
  let target = null;
  let othersPage = null;
  let params = {};
  if (path === '/') {
    target = homeOf(role);
  } else {
    // A path without parameters names its pages and no other ('/staff/tickets/new' is not the
    // ticket "new" of '/staff/tickets/:id'); a path may be registered once per set of roles.
    const named = pages.filter((p) => p.names.length === 0 && p.pattern.test(path));
    const candidates = named.length > 0 ? named : pages.filter((p) => p.names.length > 0);
    for (const p of candidates) {
      const m = path.match(p.pattern);
      if (m && !p.roles.includes(role)) othersPage ??= p;
      if (m && p.roles.includes(role)) {
        target = p;
        p.names.forEach((name, i) => { params[name] = decodeURIComponent(m[i + 1]); });
        break;
      }
    }
  }
  if (!target) return path === '/' ? noPagesYet(main, s) : othersPage ? forAnotherRole(main, s, othersPage) : notFound(main);
  const heading = h('h1', { tabindex: '-1' }, t(target.title));
  main.replaceChildren(heading);
  document.title = `${t(target.title)} · ${t('app.name')}`;
  markCurrentNav(target.path);
  // Busy while the page fills in: assistive technology (and the browser tests) wait for it.
  main.setAttribute('aria-busy', 'true');
  try {
    await target.render(main, params, query);
  } catch (error) {
    if (turn === routing) showError(error);
  }
  if (turn === routing) main.setAttribute('aria-busy', 'false');
  if (turn === routing && focusOnRoute) heading.focus();
}

// The first page of a visit keeps the focus where the browser put it; later ones move it to
// their heading, so that screen-reader users hear where they landed.
let focusOnRoute = false;

function notFound(main) {
  main.replaceChildren(h('h1', { tabindex: '-1' }, t('notfound.title')), h('p', {}, h('a', { href: '#/' }, t('notfound.back'))));
  document.title = t('notfound.title');
}

// A link from someone else's email, or one kept from another login on a shared computer: say
// whose page it is, and offer to log in as them without losing the link.
function forAnotherRole(main, s, wanted) {
  const roles = wanted.roles.map((r) => t(`role.${r}`)).join('、');
  main.replaceChildren(
    h('h1', { tabindex: '-1' }, t('otherrole.title')),
    h('p', {}, t('otherrole.text', { roles, name: s.me.name, role: t(`role.${s.me.role}`) })),
    h('p', {}, h('button', { type: 'button', class: 'primary', onclick: switchAccount }, t('otherrole.switch'))),
    h('p', {}, h('a', { href: '#/' }, t('notfound.back'))));
  document.title = t('otherrole.title');
}

async function switchAccount() {
  await endSession();
  focusOnRoute = true;
  route();
}

function noPagesYet(main, s) {
  main.replaceChildren(
    h('h1', { tabindex: '-1' }, t('home.title', { name: s.me.name })),
    h('p', {}, t('home.no_pages'), ' ', h('a', { href: '/docs' }, '/docs')));
  document.title = t('app.name');
}

function loginPage(main, query) {
  document.title = `${t('login.title')} · ${t('app.name')}`;
  const form = h('form', { class: 'card narrow', novalidate: true },
    field('login.login', 'input', { name: 'login', type: 'text', autocomplete: 'username', required: true }),
    field('login.password', 'input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    h('button', { type: 'submit', class: 'primary' }, t('login.submit')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    const data = new FormData(form);
    try {
      const login = await api('POST', '/auth/login', { login: data.get('login').trim(), password: data.get('password') });
      signIn(login);
      focusOnRoute = true;
      // A link from an email (a bill, a ticket) opens its page once logged in; the login
      // page itself leads home.
      go(current().path === '/login' ? '/' : location.hash.slice(1) || '/');
    } catch (error) {
      // A wrong login or password has its own words: "a valid bearer token" means nothing here.
      showError(error instanceof ApiError && error.status === 401 ? new Error(t('login.wrong')) : error);
    }
  });
  const notes = [];
  if (query.get('expired')) notes.push(h('p', { class: 'note' }, t('login.expired')));
  if (query.get('out')) notes.push(h('p', { class: 'note' }, t('login.signed_out')));
  main.replaceChildren(h('h1', { tabindex: '-1' }, t('login.title')), ...notes, h('p', {}, t('login.intro')), form);
}

// ---------------------------------------------------------------- layout

function layout() {
  const s = session();
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  const skip = document.getElementById('skip');
  skip.textContent = t('app.skip');
  skip.onclick = (event) => { event.preventDefault(); document.getElementById('main').focus(); };
  const large = document.documentElement.classList.contains('large-text');
  const bar = document.getElementById('bar');
  bar.replaceChildren(...[
    h('a', { class: 'brand', href: '#/' }, h('img', { src: '/app/assets/icon.svg', alt: '', width: 28, height: 28 }), t('app.name')),
    s && h('span', { class: 'who' }, t('bar.signed_in_as', { name: s.me.name, role: t(`role.${s.me.role}`) })),
    h('div', { class: 'tools' },
      h('button', { type: 'button', id: 'language', lang: lang() === 'en' ? 'zh-CN' : 'en', 'aria-label': t('bar.language_label'), onclick: toggleLanguage }, t('bar.language')),
      h('button', { type: 'button', id: 'large-text', 'aria-pressed': String(large), onclick: toggleLargeText }, t('bar.large_text')),
      s && h('button', { type: 'button', id: 'logout', onclick: logout }, t('bar.logout'))),
  ].filter(Boolean));
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('nav.label'));
  const links = s ? pages.filter((p) => p.nav && p.roles.includes(s.me.role)) : [];
  nav.hidden = links.length === 0;
  nav.replaceChildren(h('ul', {}, links.map((p) => h('li', {}, h('a', { href: `#${p.path}`, dataset: { path: p.path } }, t(p.title))))));
}

/** Marks the navigation link the page belongs to: the longest one its path starts with. */
function markCurrentNav(path) {
  const links = [...document.querySelectorAll('#nav a')];
  const best = links.filter((a) => path.startsWith(a.dataset.path)).sort((a, b) => b.dataset.path.length - a.dataset.path.length)[0];
  for (const link of links) {
    if (link === best) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function toggleLanguage() {
  setLang(lang() === 'en' ? 'zh' : 'en');
  route().then(() => document.getElementById('language').focus());
}

function toggleLargeText() {
  const on = document.documentElement.classList.toggle('large-text');
  localStorage.setItem('wuye.large-text', on ? 'on' : 'off');
  document.getElementById('large-text').setAttribute('aria-pressed', String(on));
}

async function endSession() {
  try {
    await api('POST', '/auth/logout');
  } catch {
    // The session ends here whatever the server says: the token is forgotten either way.
  }
  signOut();
}

async function logout() {
  await endSession();
  focusOnRoute = true;
  go('/login?out=1');
}

// ---------------------------------------------------------------- start

async function start() {
  setLang(lang());
  if (localStorage.getItem('wuye.large-text') === 'on') document.documentElement.classList.add('large-text');
  // A portal that fails to load is reported, and the others still serve their people.
  // One after another, in PORTALS order: pages register as their module runs, and the
  // navigation's order and each role's home page follow registration.
  for (const module of PORTALS) {
    try {
      await import(module);
    } catch (error) {
      console.error('a portal did not load:', error);
    }
  }
  window.addEventListener('hashchange', () => { focusOnRoute = true; route(); });
  await route();
}

start();
