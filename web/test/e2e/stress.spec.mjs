import { test, expect, signIn, newSession, send, lastRun, runEnded, shot, startServer } from './fixtures.mjs';

// A server of its own, with the builtin model streaming as fast as it can: at the shared server's 1 ms a token the
// 100,000 words would take minutes (timer granularity), and the point is a page that keeps up with a fast stream. Each
// word is its own frame (Conclave:Agent:MaxMergedDeltaChars=0): the page's work is per frame, and merged, the words the
// model has ready come as about a thousand frames that the page takes in before the controls below are used.
/** @type {{ url: string, key: string, stop: () => Promise<void> }} */
let server;
test.beforeAll(async () => {
  server = await startServer({ tokenDelayMs: 0, settings: { Conclave__Agent__MaxMergedDeltaChars: '0' } });
});
test.afterAll(async () => {
  await server?.stop();
});

test('a 100,000-word answer streams to its end and the page stays responsive', async ({ page }) => {
  test.setTimeout(300_000);
  await signIn(page, server.key, `${server.url}/`);
  await newSession(page);
  // Record the longest main-thread task while it streams (reported, not asserted: timing depends on the machine).
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longest = Math.max(w.__longest, e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  await send(page, 'stream 100000 words');
  const run = lastRun(page);
  const answer = run.getByTestId('answer');
  await expect(answer).toContainText('word5000 ', { timeout: 60_000 });
  // Controls respond while the stream goes on (it is checked to be going on as they start: on a fast machine the
  // whole stream may end while they are used).
  await expect(run).toHaveAttribute('data-status', 'running');
  const toggle = page.getByTestId('theme-toggle');
  const before = await toggle.getAttribute('aria-pressed');
  await toggle.click();
  await expect(toggle).not.toHaveAttribute('aria-pressed', String(before));
  await run.getByTestId('thinking').locator('summary').click();
  await expect(run.getByTestId('thinking')).toHaveAttribute('open', '');
  await page.getByTestId('composer-input').fill('typing while it streams');
  await expect(page.getByTestId('composer-input')).toHaveValue('typing while it streams');
  await shot(page, 'stream-100k');
  await toggle.click();
  await runEnded(page, 240_000);
  await expect(run).toHaveAttribute('data-status', 'done');
  await expect(run.getByTestId('usage')).toContainText('100,000 output tokens');
  const stats = await answer.evaluate((el) => {
    const t = /** @type {HTMLElement} */ (el).innerText.trim();
    return { len: t.length, head: t.slice(0, 18), tail: t.slice(-24), count: t.split(/\s+/).length };
  });
  expect(stats.head).toBe('word1 word2 word3 ');
  expect(stats.tail.endsWith('word99999 word100000')).toBe(true);
  expect(stats.count).toBe(100000);
  const longest = await page.evaluate(() => /** @type {any} */ (window).__longest);
  test.info().annotations.push({ type: 'longest main-thread task while streaming', description: `${Math.round(longest)} ms` });
  console.log(`longest main-thread task while streaming 100,000 words: ${Math.round(longest)} ms`);
  // Still usable afterwards.
  await page.getByTestId('composer-input').fill('2+2');
  await page.getByTestId('composer-input').press('Enter');
  await expect(lastRun(page).getByTestId('answer')).toHaveText('The answer is 4.', { timeout: 30_000 });
  await shot(page, 'stream-100k-done');
});
