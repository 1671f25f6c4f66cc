import { test, expect, signIn, newSession, send, lastRun, runEnded, shot } from './fixtures.mjs';

test.beforeEach(async ({ page }) => {
  await signIn(page);
  await newSession(page);
});

const WRITE = 'use tool write_file {"path": "a.txt", "content": "hi"}';

test('approve: the confirmation card shows the tool, arguments, reason and a countdown; Approve runs the tool', async ({ page }) => {
  await send(page, WRITE);
  const card = page.getByTestId('confirmation');
  await expect(card).toBeVisible();
  await expect(card).toContainText('write_file');
  await expect(card.getByTestId('confirmation-args')).toContainText('"path": "a.txt"');
  await expect(card.getByTestId('countdown')).toHaveText(/Expires in \d+:\d\d/);
  const first = await card.getByTestId('countdown').innerText();
  await page.waitForTimeout(2100);
  expect(await card.getByTestId('countdown').innerText()).not.toBe(first);
  await expect(page.getByTestId('live-region')).toContainText('Approval needed');
  await shot(page, 'confirmation-card');
  await card.getByTestId('approve').click();
  await expect(card).toHaveCount(0);
  const run = await runEnded(page);
  await expect(run.getByTestId('answer')).toHaveText(/Tool write_file returned: .*a\.txt/);
  await expect(run.getByTestId('step')).toHaveAttribute('data-state', 'done');
  await expect(run.getByTestId('step-confirmation')).toHaveText('Approved');
  await shot(page, 'confirmation-approved');
});

test('deny with a reason: the tool is not run and the answer says so', async ({ page }) => {
  await send(page, WRITE);
  const card = page.getByTestId('confirmation');
  await card.getByTestId('confirm-reason').fill('not today');
  await card.getByTestId('deny').click();
  await expect(card).toHaveCount(0);
  const run = await runEnded(page);
  await expect(run.getByTestId('answer')).toContainText('was not run');
  await expect(run.getByTestId('step')).toHaveAttribute('data-state', 'error');
  await expect(run.getByTestId('step-confirmation')).toContainText('Denied: not today');
  await shot(page, 'confirmation-denied');
});

test('ask_human: the question is answered with free text', async ({ page }) => {
  await send(page, 'ask me: What is your name?');
  const ask = page.getByTestId('ask-human');
  await expect(ask.getByTestId('question')).toHaveText('What is your name?');
  await shot(page, 'ask-human');
  await ask.getByTestId('ask-input').fill('Ada Lovelace');
  await ask.getByTestId('ask-input').press('Enter');
  await expect(ask).toHaveCount(0);
  const run = await runEnded(page);
  await expect(run.getByTestId('answer')).toHaveText('You answered: Ada Lovelace');
  await shot(page, 'ask-human-answered');
});

test('cancel: a long stream stops with a cancelled error', async ({ page }) => {
  await send(page, 'stream 100000 words');
  await expect(lastRun(page).getByTestId('answer')).toContainText('word10 ');
  await page.getByTestId('cancel').click();
  const run = await runEnded(page);
  await expect(run).toHaveAttribute('data-status', 'cancelled');
  await expect(run.getByTestId('run-error')).toHaveAttribute('data-code', 'cancelled');
  await expect(run.getByTestId('run-error')).toContainText('Cancelled');
  await expect(run.getByTestId('retry')).toHaveCount(0);
  await expect(page.getByTestId('cancel')).toHaveCount(0);
  await shot(page, 'cancelled');
});

test('cancel while a confirmation waits removes the card', async ({ page }) => {
  await send(page, WRITE);
  await expect(page.getByTestId('confirmation')).toBeVisible();
  await page.getByTestId('cancel').click();
  await expect(page.getByTestId('confirmation')).toHaveCount(0);
  await expect((await runEnded(page))).toHaveAttribute('data-status', 'cancelled');
});
