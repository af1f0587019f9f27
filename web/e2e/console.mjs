// The web console's end-to-end flows in headless Chromium, against a real
// `tsprov serve` started by cmd/tsprov/console_test.go, which writes the
// configuration (server URL, credentials, the corpus package and the step
// to disable) and checks through the REST API what the flows changed.
//
// One browser for the whole run; two contexts: an administrator signed in
// with a token (A) and a read-only analyst signed in with user and password
// (B), both on the same package. A disables a step and saves; B sees the
// change live and cannot edit; A compares the revisions in History and
// restores the first. Each main screen is screenshotted into the artefacts
// folder and checked with axe-core: a serious or critical violation fails
// the run, listed.
import path from 'node:path';
import fs from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { readConfig, launch, newPage, signIn, waitSignedIn, openPackage, search, tree, item, expand, waitFor, escapeRegExp } from './lib.mjs';

const cfg = readConfig();
fs.mkdirSync(cfg.artifacts, { recursive: true });

let passed = 0;
let failed = 0;
const pages = [];

// step runs one part of the flow; the flow stops at the first failure (what
// follows depends on it), after a screenshot of every open page.
async function step(name, fn) {
  const start = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${Date.now() - start} ms)\n     ${String(e && e.stack ? e.stack : e).split('\n').join('\n     ')}`);
    for (const [i, p] of pages.entries()) {
      const file = path.join(cfg.artifacts, `failure-${i === 0 ? 'A' : 'B'}.png`);
      await p.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.log(`     screenshot: ${file}`);
    }
    throw new StopFlow();
  }
}
class StopFlow extends Error {}

// screen saves a screenshot of a main screen and runs axe-core on it; its
// serious and critical violations of WCAG 2.1 A/AA are kept, and fail the
// run at its end (the flow goes on, so that every screen is checked).
const violations = [];
let screens = 0;
async function screen(page, name) {
  const file = path.join(cfg.artifacts, name + '.png');
  await page.screenshot({ path: file });
  console.log(`     screenshot: ${file}`);
  screens++;
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  fs.writeFileSync(path.join(cfg.artifacts, name + '.axe.json'), JSON.stringify(result.violations, null, 2));
  if (bad.length > 0) {
    const lines = bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length} element(s): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
    violations.push(`the ${name} screen: ${bad.length} serious or critical violation(s):\n       ${lines.join('\n       ')}`);
    console.log(`     axe-core: ${bad.length} serious or critical violation(s) on ${name}`);
  }
}

// status waits for a role="status" element whose text matches re.
async function status(page, re) {
  await page.getByRole('status').filter({ hasText: re }).first().waitFor();
}

function stepItemDisabled(page) {
  return tree(page).getByRole('treeitem', { name: new RegExp('^' + escapeRegExp(cfg.step) + '.*\\(disabled\\)') }).first();
}

// showStep makes the step's tree item visible: its group opened.
async function showStep(page) {
  if (!(await item(page, cfg.step).isVisible())) {
    await expand(page, cfg.group);
  }
  await item(page, cfg.step).waitFor();
}

const browser = await launch(cfg.chromium);
try {
  const a = await newPage(browser, cfg.timeoutMs);
  pages.push(a);

  await step('the sign-in screen', async () => {
    await a.goto(cfg.url + '/');
    await a.getByRole('form', { name: 'Sign in' }).waitFor();
    await screen(a, '01-sign-in');
  });

  await step('a wrong token is refused with the server\'s message', async () => {
    await signIn(a, cfg.url, { token: 'tsp_not-a-token' });
    await a.getByRole('alert').filter({ hasText: /invalid credentials/i }).waitFor();
  });

  await step('sign in with a token', async () => {
    await signIn(a, cfg.url, { token: cfg.admin.token });
    await waitSignedIn(a);
    await a.getByRole('banner').filter({ hasText: cfg.admin.name }).first().waitFor();
    await a.getByRole('button', { name: 'Sign out', exact: true }).waitFor();
  });

  await step('find the package by searching the list', async () => {
    await a.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Packages', exact: true }).click();
    const table = a.getByRole('table', { name: 'Packages' });
    await table.getByRole('link', { name: cfg.other, exact: true }).waitFor();
    await search(a, cfg.package.name);
    if ((await table.getByRole('link', { name: cfg.other, exact: true }).count()) !== 0) throw new Error(`"${cfg.other}" is still listed`);
    await table.getByRole('row').filter({ hasText: cfg.package.id }).getByRole('link', { name: cfg.package.name, exact: true }).waitFor();
    await screen(a, '02-packages');
  });

  await step('open the corpus task sequence', async () => {
    await a.getByRole('table', { name: 'Packages' }).getByRole('link', { name: cfg.package.name, exact: true }).click();
    await a.getByRole('heading', { level: 1, name: cfg.package.name, exact: true }).waitFor();
    const tabs = a.getByRole('tablist');
    for (const t of ['Steps', 'History']) {
      await tabs.getByRole('tab', { name: t, exact: true }).waitFor();
    }
    await item(a, cfg.group).waitFor();
    await showStep(a);
    await item(a, cfg.step).click();
    const details = a.getByRole('region', { name: 'Step details' });
    await details.getByRole('textbox', { name: 'Name', exact: true }).waitFor();
    const name = await details.getByRole('textbox', { name: 'Name', exact: true }).inputValue();
    if (name !== cfg.step) throw new Error(`the details pane shows the step "${name}", not "${cfg.step}"`);
    if (!(await details.getByRole('switch', { name: 'Enabled' }).isChecked())) {
      throw new Error(`the step "${cfg.step}" shows as disabled before any change`);
    }
    if (!(await a.getByRole('button', { name: 'Save', exact: true }).isDisabled())) {
      throw new Error('"Save" is enabled before any change');
    }
    await screen(a, '03-editor');
  });

  await step('the keyboard closes and opens a group (ArrowLeft, ArrowRight)', async () => {
    const group = item(a, cfg.group);
    await group.click();
    if ((await group.getAttribute('aria-expanded')) !== 'true') {
      await group.press('ArrowRight');
      await item(a, cfg.step).waitFor();
    }
    await group.press('ArrowLeft');
    await item(a, cfg.step).waitFor({ state: 'hidden' });
    if ((await group.getAttribute('aria-expanded')) !== 'false') throw new Error(`group "${cfg.group}" closed but aria-expanded is not "false"`);
    await group.press('ArrowRight');
    await item(a, cfg.step).waitFor();
    await item(a, cfg.step).click();
    await a.getByRole('region', { name: 'Step details' }).getByRole('textbox', { name: 'Name', exact: true }).waitFor();
  });

  // B: the read-only analyst, in another browser context, on the same package.
  const b = await newPage(browser, cfg.timeoutMs);
  pages.push(b);

  await step('a read-only user signs in with user and password and cannot edit', async () => {
    await signIn(b, cfg.url, { user: cfg.reader.name, password: cfg.reader.password });
    await waitSignedIn(b);
    await openPackage(b, cfg.package.name);
    await b.getByRole('note').filter({ hasText: 'Read only' }).first().waitFor();
    await showStep(b);
    await item(b, cfg.step).click();
    const sw = b.getByRole('region', { name: 'Step details' }).getByRole('switch', { name: 'Enabled' });
    await sw.waitFor();
    if (!(await sw.isDisabled())) throw new Error('the "Enabled" switch can be used by a read-only user');
    for (const name of ['Save', 'Add step']) {
      const n = await b.getByRole('button', { name, exact: true }).count();
      if (n !== 0) throw new Error(`a read-only user is offered "${name}"`);
    }
    await screen(b, '04-read-only');
  });

  await step('disable the step', async () => {
    const sw = a.getByRole('region', { name: 'Step details' }).getByRole('switch', { name: 'Enabled' });
    await sw.click();
    await waitFor(async () => !(await sw.isChecked()), 'the "Enabled" switch off');
    await stepItemDisabled(a).waitFor();
    await waitFor(async () => !(await a.getByRole('button', { name: 'Save', exact: true }).isDisabled()), '"Save" enabled after a change');
  });

  await step('save: the review dialog shows the diff, then "Saved"', async () => {
    await a.getByRole('button', { name: 'Save', exact: true }).click();
    const dialog = a.getByRole('dialog', { name: 'Review changes' });
    await dialog.waitFor();
    await dialog.getByText(cfg.step).first().waitFor();
    await dialog.getByText(/disabled/i).first().waitFor();
    await screen(a, '05-review-changes');
    await dialog.getByRole('button', { name: 'Confirm save', exact: true }).click();
    await status(a, /Saved/);
    await dialog.waitFor({ state: 'hidden' });
  });

  await step('the other browser sees the change live', async () => {
    await status(b, /changed by/i);
    const reload = b.getByRole('button', { name: 'Reload', exact: true });
    if (await reload.isVisible()) await reload.click();
    await showStep(b);
    await stepItemDisabled(b).waitFor();
  });

  await step('history: compare the two revisions', async () => {
    await a.getByRole('tab', { name: 'History', exact: true }).click();
    const revs = a.getByRole('table', { name: 'Revisions' });
    await revs.waitFor();
    const before = cfg.revision;
    const after = cfg.revision + 1;
    await revs.getByRole('checkbox', { name: `Select revision ${after}`, exact: true }).waitFor();
    await revs.getByRole('checkbox', { name: `Select revision ${before}`, exact: true }).check();
    await revs.getByRole('checkbox', { name: `Select revision ${after}`, exact: true }).check();
    await a.getByRole('button', { name: 'Compare', exact: true }).click();
    const diff = a.getByRole('region', { name: 'Diff' });
    await diff.getByText(cfg.step).first().waitFor();
    await diff.getByText(/disabled/i).first().waitFor();
    await screen(a, '06-history-diff');
  });

  await step('restore the first revision', async () => {
    const n = cfg.revision;
    await a.getByRole('table', { name: 'Revisions' }).getByRole('button', { name: `Restore revision ${n}`, exact: true }).click();
    const dialog = a.getByRole('dialog', { name: `Restore revision ${n}?` });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await status(a, /Restored/);
    await a.getByRole('table', { name: 'Revisions' }).getByRole('checkbox', { name: `Select revision ${n + 2}`, exact: true }).waitFor();
    await a.getByRole('tab', { name: 'Steps', exact: true }).click();
    await showStep(a);
    await waitFor(async () => (await stepItemDisabled(a).count()) === 0, `"${cfg.step}" enabled again after the restore`);
  });

  await step('the other browser sees the restore live', async () => {
    await status(b, /changed by/i);
    const reload = b.getByRole('button', { name: 'Reload', exact: true });
    if (await reload.isVisible()) await reload.click();
    await showStep(b);
    await waitFor(async () => (await stepItemDisabled(b).count()) === 0, `"${cfg.step}" enabled again in the other browser`);
  });

  await step('the other tabs of the package', async () => {
    let n = 8;
    for (const tab of ['References', 'Lint', 'Plan', 'Distribution', 'Export']) {
      const t = a.getByRole('tab', { name: new RegExp('^' + tab + '\\b') });
      await t.click();
      await waitFor(async () => (await t.getAttribute('aria-selected')) === 'true', `the tab "${tab}" selected`);
      const panel = a.getByRole('tabpanel').first();
      await panel.waitFor();
      await waitFor(async () => (await panel.locator('[aria-busy="true"]').count()) === 0 && (await panel.innerText()).trim() !== '', `the "${tab}" tab's content`);
      await screen(a, `${String(n++).padStart(2, '0')}-${tab.toLowerCase()}`);
    }
  });

  await step('a save after someone else\'s change is refused, explained, and the edits kept', async () => {
    await a.getByRole('tab', { name: 'Steps', exact: true }).click();
    await showStep(a);
    await item(a, cfg.step).click();
    const sw = a.getByRole('region', { name: 'Step details' }).getByRole('switch', { name: 'Enabled' });
    await sw.click();
    await stepItemDisabled(a).waitFor();
    // Another user changes the sequence through the REST API meanwhile:
    // the description of its first step.
    const call = async (method, body) => {
      const resp = await fetch(`${cfg.url}/AdminService/wmi/SMS_TaskSequencePackage.${method}`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: 'Basic ' + Buffer.from(`${cfg.operator.name}:${cfg.operator.password}`).toString('base64'),
        },
        body: JSON.stringify(body),
      });
      if (resp.status !== 200) throw new Error(`${method} by ${cfg.operator.name}: ${resp.status} ${await resp.text()}`);
      return resp.json();
    };
    const pkg = { '@odata.type': '#AdminService.SMS_TaskSequencePackage', PackageID: cfg.package.id };
    const { TaskSequence } = await call('GetSequence', { TaskSequencePackage: pkg });
    TaskSequence.Steps[0].Description = cfg.operator.description;
    await call('SetSequence', { TaskSequencePackage: pkg, TaskSequence });
    await status(a, new RegExp('changed by ' + escapeRegExp(cfg.operator.name), 'i'));
    await a.getByRole('button', { name: 'Save', exact: true }).click();
    const alert = a.getByRole('alert').filter({ hasText: /\S/ }).first();
    const review = a.getByRole('dialog', { name: 'Review changes' });
    await alert.or(review).first().waitFor();
    if (await review.isVisible()) {
      await screen(a, '07-conflict');
      throw new Error(`"Save" opened "Review changes" on the version before ${cfg.operator.name}'s change: confirming would overwrite it`);
    }
    console.log(`     alert: ${(await alert.textContent()).trim()}`);
    await stepItemDisabled(a).waitFor();
    await screen(a, '07-conflict');
    // Reload (or discard the edits, which reads the package again): their
    // version, the edits given up.
    await a.getByRole('button', { name: 'Reload', exact: true }).or(a.getByRole('button', { name: 'Discard changes', exact: true })).first().click();
    await waitFor(async () => (await stepItemDisabled(a).count()) === 0, `"${cfg.step}" enabled again after "Reload"`);
    await waitFor(async () => a.getByRole('button', { name: 'Save', exact: true }).isDisabled(), '"Save" disabled after "Reload"');
    await tree(a).getByRole('treeitem').first().click();
    const description = a.getByRole('region', { name: 'Step details' }).getByRole('textbox', { name: 'Description', exact: true });
    await waitFor(async () => (await description.inputValue()) === cfg.operator.description, `the first step's description "${cfg.operator.description}" (the other user's change) after "Reload"`);
  });
} catch (e) {
  if (!(e instanceof StopFlow)) {
    failed++;
    console.log(`FAIL ${e && e.stack ? e.stack : e}`);
  }
} finally {
  await browser.close();
}
if (violations.length > 0) {
  failed++;
  console.log(`FAIL axe-core: no serious or critical violation on the main screens\n     ${violations.join('\n     ')}`);
} else {
  console.log(`ok   axe-core: no serious or critical violation on ${screens} main screens`);
  passed++;
}
console.log(`screenshots and axe-core reports: ${cfg.artifacts}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
