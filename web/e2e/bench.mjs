// Times the console on large task sequences, for bench/console_test.go:
// for each sequence, n times, tsprov's console and then the reference page
// in turn (A B A B …), in one headless Chromium:
//
// - time to interactive: console, from the click on the package's Name link
//   in the list until the tree shows its first item and a click on that
//   item has shown the "Step details" pane; reference, from page.goto of a
//   static page of the same tree (nested <details>, no script) until its
//   first item is visible and a click on it has been handled;
// - time to open a group: from ArrowRight on the collapsed group (the
//   reference: a click on its <summary>) until the group's first child is
//   visible.
//
// Each measure is one JSON line on standard output:
// {"sequence", "who": "tsprov"|"ref", "what": "tti"|"group", "ms"}.
import { readConfig, launch, newPage, signIn, waitSignedIn, search, tree, item, waitFor } from './lib.mjs';

const cfg = readConfig();
const browser = await launch(cfg.chromium);
const emit = (sequence, who, what, ms) => console.log(JSON.stringify({ sequence, who, what, ms }));

try {
  const page = await newPage(browser, cfg.timeoutMs);
  await signIn(page, cfg.url, { token: cfg.token });
  await waitSignedIn(page);
  const ref = await newPage(browser, cfg.timeoutMs);

  for (const seq of cfg.sequences) {
    for (let i = 0; i < cfg.n; i++) {
      // tsprov: open the package from the list.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Packages', exact: true }).click();
      await search(page, seq.name);
      const link = page.getByRole('table', { name: 'Packages' }).getByRole('link', { name: seq.name, exact: true });
      await link.waitFor();
      let start = performance.now();
      await link.click();
      const first = tree(page).getByRole('treeitem').first();
      await first.click();
      await page.getByRole('region', { name: 'Step details' }).waitFor();
      emit(seq.name, 'tsprov', 'tti', performance.now() - start);

      const group = item(page, seq.group);
      await group.click();
      if ((await group.getAttribute('aria-expanded')) === 'true') {
        await group.press('ArrowLeft');
        await waitFor(async () => (await group.getAttribute('aria-expanded')) === 'false', `group "${seq.group}" collapsed`);
        await item(page, seq.child).waitFor({ state: 'hidden' });
      }
      start = performance.now();
      await group.press('ArrowRight');
      await item(page, seq.child).waitFor();
      emit(seq.name, 'tsprov', 'group', performance.now() - start);

      // reference: the same tree as a static page.
      start = performance.now();
      await ref.goto(seq.ref);
      const summary = ref.locator('summary').first();
      await summary.click();
      await ref.locator('details[open]').first().waitFor();
      emit(seq.name, 'ref', 'tti', performance.now() - start);
      await summary.click(); // closed again

      const refGroup = ref.locator('summary').filter({ hasText: seq.group }).first();
      start = performance.now();
      await refGroup.click();
      await refGroup.locator('xpath=../ul/li[1]').waitFor();
      emit(seq.name, 'ref', 'group', performance.now() - start);
    }
  }
} finally {
  await browser.close();
}
