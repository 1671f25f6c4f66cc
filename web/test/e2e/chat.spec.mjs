import { test, expect, signIn, newSession, send, lastRun, runEnded, shot, words } from './fixtures.mjs';

test.beforeEach(async ({ page }) => {
  await signIn(page);
  await newSession(page);
});

test('an answer streams in, then shows its usage', async ({ page }) => {
  await send(page, 'stream 1500 words');
  const answer = lastRun(page).getByTestId('answer');
  // Seen while streaming: the start is there, the end is not yet.
  await expect(answer).toContainText('word1 word2');
  await expect(lastRun(page)).toHaveAttribute('data-status', 'running');
  const partial = await answer.innerText();
  expect(partial).not.toContain('word1500');
  await expect(page.getByTestId('cancel')).toBeVisible();
  await shot(page, 'chat-streaming');
  await runEnded(page);
  await expect(lastRun(page)).toHaveAttribute('data-status', 'done');
  expect((await answer.innerText()).trim()).toBe(words(1500));
  await expect(lastRun(page).getByTestId('usage')).toContainText('1,500 output tokens');
  await expect(lastRun(page).getByTestId('user-message')).toHaveText(/stream 1500 words/);
  await expect(lastRun(page).getByTestId('thinking')).toHaveCount(1);
  await expect(page.getByTestId('cancel')).toHaveCount(0);
  // Announced once, when complete.
  await expect(page.getByTestId('live-region')).toContainText('Answer complete');
  await shot(page, 'chat-streamed');
});

test('Shift+Enter makes a new line, Enter sends', async ({ page }) => {
  const box = page.getByTestId('composer-input');
  await box.fill('echo: line one');
  await box.press('Shift+Enter');
  await box.type('line two');
  await expect(page.getByTestId('run')).toHaveCount(0);
  await box.press('Enter');
  await runEnded(page);
  await expect(lastRun(page).getByTestId('answer')).toHaveText(/line one\s+line two/);
  await expect(box).toHaveValue('');
});

test('Markdown with a highlighted code block', async ({ page }) => {
  const md = [
    'echo: # Report',
    '',
    'Some **bold** text, a [link](https://example.com/x) and `inline code`.',
    '',
    '```python',
    'def greet(name):',
    '',
    '    return f"hello {name}"',
    '```',
    '',
    '| a | b |',
    '|---|---|',
    '| 1 | 2 |',
    '',
    '1. first',
    '2. second',
  ].join('\n');
  await send(page, md);
  const run = await runEnded(page);
  const answer = run.getByTestId('answer');
  await expect(answer.locator('h1')).toHaveText('Report');
  await expect(answer.locator('strong')).toHaveText('bold');
  await expect(answer.locator('table td').first()).toHaveText('1');
  await expect(answer.locator('ol li')).toHaveCount(2);
  const code = answer.locator('pre code.language-python');
  await expect(code).toHaveCount(1);
  // Highlighted: keyword and string spans; the blank line inside the fence is one code block.
  await expect(code.locator('.hljs-keyword').first()).toHaveText('def');
  await expect(code.locator('.hljs-string').first()).toBeVisible();
  expect(await code.innerText()).toContain('def greet(name):\n\n    return');
  const link = answer.locator('a');
  await expect(link).toHaveAttribute('href', 'https://example.com/x');
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await shot(page, 'markdown-code');
});

test('a hostile answer stays inert', async ({ page }) => {
  const hostile = 'echo: <img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script> [x](javascript:window.__pwned=1) ' +
    '<a href="javascript:window.__pwned=1">y</a> <iframe src="javascript:window.__pwned=1"></iframe> <svg onload="window.__pwned=1"></svg> ' +
    '<div style="position:fixed;inset:0" onclick="window.__pwned=1">z</div> <form action="https://example.com"><button>go</button></form>\n\n' +
    '<details open ontoggle="window.__pwned=1">d</details>';
  await send(page, hostile);
  const run = await runEnded(page);
  const answer = run.getByTestId('answer');
  await expect(answer).toContainText('y');
  // Click every link and element that is left.
  for (const a of await answer.locator('a').all()) await a.click({ force: true, modifiers: [] }).catch(() => {});
  for (const d of await answer.locator('div, p, img').all()) await d.click({ force: true }).catch(() => {});
  await page.waitForTimeout(300);
  expect(await page.evaluate(() => /** @type {any} */ (window).__pwned)).toBeUndefined();
  expect(await inertReport(answer)).toEqual({ forbidden: [], handlers: [], jsUrls: [], styles: [] });
  // Raw HTML is shown as text; the Markdown link lost its javascript: URL.
  await expect(answer).toContainText('<script>window.__pwned=1</script>');
  // The stored history renders the same way after a reload.
  await page.reload();
  const again = lastRun(page).getByTestId('answer');
  await expect(again).toContainText('y');
  expect(await inertReport(again)).toEqual({ forbidden: [], handlers: [], jsUrls: [], styles: [] });
  expect(await page.evaluate(() => /** @type {any} */ (window).__pwned)).toBeUndefined();
  await shot(page, 'hostile-inert');
});

/** What in an element could run script or restyle the page. @param {import('@playwright/test').Locator} el */
function inertReport(el) {
  return el.evaluate((root) => {
    const all = [...root.querySelectorAll('*')];
    return {
      forbidden: all.filter((e) => /^(SCRIPT|IFRAME|SVG|FORM|BUTTON|OBJECT|EMBED|STYLE)$/i.test(e.tagName)).map((e) => e.tagName),
      handlers: all.flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${e.tagName} ${a.name}`)),
      jsUrls: all.flatMap((e) => [...e.attributes].filter((a) => /^\s*javascript:/i.test(a.value)).map((a) => `${e.tagName} ${a.name}`)),
      styles: all.filter((e) => e.hasAttribute('style')).map((e) => e.tagName),
    };
  });
}

test('arithmetic runs the calculator as a step card with its result', async ({ page }) => {
  await send(page, '12*(3+4)');
  const run = await runEnded(page);
  const step = run.getByTestId('step');
  await expect(step).toHaveAttribute('data-tool', 'calculator');
  await expect(step).toHaveAttribute('data-state', 'done');
  await expect(step.getByTestId('step-result')).toContainText('84');
  await expect(run.getByTestId('answer')).toHaveText('The answer is 84.');
  await shot(page, 'tool-step');
});

test('a failing tool shows its error on the step card', async ({ page }) => {
  await send(page, 'use tool read_file {"path": "/etc/passwd"}');
  const run = await runEnded(page);
  const step = run.getByTestId('step');
  await expect(step).toHaveAttribute('data-state', 'error');
  await expect(step.getByTestId('step-error')).not.toBeEmpty();
  await expect(run.getByTestId('answer')).toContainText('was not run');
});

test('a message while a run is active: the user is told a run is active', async ({ page }) => {
  await send(page, 'stream 3000 words');
  await expect(lastRun(page).getByTestId('answer')).toContainText('word1');
  await send(page, 'hello again');
  await expect(page.getByTestId('notice').filter({ hasText: 'already active' })).toBeVisible();
  await expect(page.getByTestId('notice').last()).toHaveAttribute('data-code', 'run_in_progress');
  await expect(page.getByTestId('outbox')).toHaveCount(0);
  await shot(page, 'run-in-progress');
  await page.getByTestId('cancel').click();
  await runEnded(page);
});

test('history: reopening the session replays it from REST', async ({ page }) => {
  await send(page, 'stream 40 words');
  await runEnded(page);
  await send(page, '2+3');
  await runEnded(page);
  await page.reload();
  await expect(page.getByTestId('run')).toHaveCount(2);
  await expect(page.getByTestId('run').first().getByTestId('answer')).toHaveText(words(40));
  await expect(page.getByTestId('run').first().getByTestId('user-message')).toContainText('stream 40 words');
  await expect(lastRun(page).getByTestId('answer')).toHaveText('The answer is 5.');
  await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
  // Live again after the history: a new run appears once.
  await send(page, 'stream 3 words');
  await runEnded(page);
  await expect(page.getByTestId('run')).toHaveCount(3);
});
