// Shared by the end-to-end script (console.mjs) and the benchmark script
// (bench.mjs): Debian's Chromium driven by playwright-core, the sign-in and
// the tree helpers. Every element is found by its ARIA role and accessible
// name, as README.md beside this file lists them; nothing is found by a CSS
// class or a test id.
import { chromium } from 'playwright-core';
import fs from 'node:fs';

// The flags Chromium needs on a build machine: no sandbox (root in a
// container), no GPU, nothing fetched from outside (QUIC, component updates,
// sync, background networking). Playwright gives every launch a fresh
// profile (--user-data-dir in a new temporary folder) and removes it after.
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// readConfig reads the JSON file the Go test wrote (its path is the first
// argument).
export function readConfig() {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node ' + process.argv[1] + ' CONFIG.json');
    process.exit(2);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// launch starts one headless Chromium for the whole run.
export async function launch(executablePath) {
  return chromium.launch({ executablePath, headless: true, args: chromiumArgs });
}

// newPage opens a page in a new browser context (its own cookies and
// storage: another person at another browser).
export async function newPage(browser, timeout) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  return page;
}

export function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// choice is the tab or radio button that picks a way of signing in.
function choice(form, name) {
  return form.getByRole('tab', { name, exact: true }).or(form.getByRole('radio', { name, exact: true }));
}

// field is the input labelled name, not the tab or radio of the same name.
function field(form, name) {
  return form.getByLabel(name, { exact: true }).and(form.locator('input:not([type=radio]):not([type=checkbox]), textarea'));
}

// signIn signs in on the console's sign-in screen, with {token} or {user,
// password}, and waits for the main navigation.
export async function signIn(page, url, cred) {
  await page.goto(url + '/');
  const form = page.getByRole('form', { name: 'Sign in' });
  await form.waitFor();
  if (cred.token !== undefined) {
    await choice(form, 'Token').click();
    await field(form, 'Token').fill(cred.token);
  } else {
    await choice(form, 'User and password').click();
    await field(form, 'User name').fill(cred.user);
    await field(form, 'Password').fill(cred.password);
  }
  await form.getByRole('button', { name: 'Sign in', exact: true }).click();
}

// waitSignedIn waits for the main navigation after a sign-in.
export async function waitSignedIn(page) {
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

// openPackage searches the package list for name and opens it by its link.
export async function openPackage(page, name) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Packages', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Packages', exact: true }).waitFor();
  await search(page, name);
  await page.getByRole('table', { name: 'Packages' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}

// search types text into the package list's search box and waits until
// the list shows only packages whose row holds it.
export async function search(page, text) {
  await page.getByRole('searchbox', { name: 'Search packages' }).fill(text);
  const rows = page.getByRole('table', { name: 'Packages' }).getByRole('row').filter({ has: page.getByRole('cell') });
  await waitFor(async () => {
    const n = await rows.count();
    return n > 0 && n === (await rows.filter({ hasText: text }).count());
  }, `the package list filtered to "${text}"`);
}

// tree is the task sequence editor's tree.
export function tree(page) {
  return page.getByRole('tree', { name: 'Task sequence' });
}

// item is the tree item whose accessible name starts with name.
export function item(page, name) {
  return tree(page).getByRole('treeitem', { name: new RegExp('^' + escapeRegExp(name)) }).first();
}

// expand opens a collapsed group the way the WAI-ARIA tree pattern does
// with the keyboard: focus it (a click) and press ArrowRight.
export async function expand(page, name) {
  const group = item(page, name);
  await group.click();
  if ((await group.getAttribute('aria-expanded')) === 'false') {
    await group.press('ArrowRight');
  }
  await waitFor(async () => (await group.getAttribute('aria-expanded')) === 'true', `group "${name}" expanded (aria-expanded="true")`);
}

// waitFor polls cond until it holds or the time is up.
export async function waitFor(cond, what, timeout = 20000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      if (await cond()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}` + (last ? `: ${last.message}` : ''));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
