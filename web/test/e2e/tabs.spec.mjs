import { test, expect, signIn, newSession, send, lastRun, runEnded, shot, words, watch } from './fixtures.mjs';

test('two tabs on one session: a run started in one streams in the other; a confirmation shows in both and goes from both', async ({ page, browser }) => {
  await signIn(page);
  const id = await newSession(page);
  const context2 = await browser.newContext();
  const other = await context2.newPage();
  const problems = watch(other);
  try {
    await signIn(other, undefined, `/#/s/${id}`);
    await expect(other.getByTestId('connection')).toHaveAttribute('data-status', 'open');

    await send(page, 'stream 2000 words');
    const theirs = lastRun(other).getByTestId('answer');
    await expect(theirs).toContainText('word1 word2');
    await expect(lastRun(other)).toHaveAttribute('data-status', 'running');
    await expect(other.getByTestId('cancel')).toBeVisible();
    await runEnded(other);
    expect((await theirs.innerText()).trim()).toBe(words(2000));
    await expect(lastRun(other).getByTestId('user-message')).toContainText('stream 2000 words');

    await send(page, 'use tool write_file {"path": "b.txt", "content": "two tabs"}');
    await expect(page.getByTestId('confirmation')).toBeVisible();
    await expect(other.getByTestId('confirmation')).toBeVisible();
    await shot(other, 'two-tabs-confirmation');
    await other.getByTestId('approve').click();
    await expect(other.getByTestId('confirmation')).toHaveCount(0);
    await expect(page.getByTestId('confirmation')).toHaveCount(0);
    await runEnded(page);
    await runEnded(other);
    await expect(lastRun(page).getByTestId('answer')).toHaveText(/returned/);
    await expect(lastRun(other).getByTestId('answer')).toHaveText(/returned/);

    // A question asked in one tab is answered in the other.
    await send(other, 'ask me: Which tab?');
    await expect(page.getByTestId('ask-human')).toBeVisible();
    await expect(other.getByTestId('ask-human')).toBeVisible();
    await page.getByTestId('ask-input').fill('the first');
    await page.getByTestId('ask-send').click();
    await expect(page.getByTestId('ask-human')).toHaveCount(0);
    await expect(other.getByTestId('ask-human')).toHaveCount(0);
    await runEnded(other);
    await expect(lastRun(other).getByTestId('answer')).toHaveText('You answered: the first');
    await shot(page, 'two-tabs');
    expect(problems).toEqual([]);
  } finally {
    await context2.close();
  }
});

test('a tab opened while a confirmation waits gets it from connected.pending', async ({ page, browser }) => {
  await signIn(page);
  const id = await newSession(page);
  await send(page, 'use tool write_file {"path": "c.txt", "content": "late"}');
  await expect(page.getByTestId('confirmation')).toBeVisible();
  const context2 = await browser.newContext();
  const late = await context2.newPage();
  try {
    await signIn(late, undefined, `/#/s/${id}`);
    // The history shows the card before the socket is open (a click then sends nothing, and the page says so);
    // once it is open, the card is the one connected.pending named.
    await expect(late.getByTestId('connection')).toHaveAttribute('data-status', 'open');
    const card = late.getByTestId('confirmation');
    await expect(card).toBeVisible();
    await card.getByTestId('deny').click();
    await expect(page.getByTestId('confirmation')).toHaveCount(0);
    await expect(card).toHaveCount(0);
    await runEnded(page);
    await expect(lastRun(page).getByTestId('answer')).toContainText('was not run');
  } finally {
    await context2.close();
  }
});
