import { test, expect, signIn, newSession, send, lastRun, runEnded, shot, words, BASE_URL } from './fixtures.mjs';
import { startProxy } from './proxy.mjs';

test('the socket is dropped mid-stream: the client reconnects and resumes, every word once', async ({ page }) => {
  const proxy = await startProxy(BASE_URL);
  try {
    /** @type {string[]} */
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await signIn(page, undefined, `${proxy.url}/`);
    await newSession(page);
    const statuses = new Set();
    await send(page, 'stream 3000 words');
    const answer = lastRun(page).getByTestId('answer');
    await expect(answer).toContainText('word200 ');
    expect(proxy.dropAll()).toBeGreaterThan(0);
    await expect(page.getByTestId('connection')).not.toHaveAttribute('data-status', 'open', { timeout: 5000 }).catch(() => {});
    statuses.add(await page.getByTestId('connection').getAttribute('data-status'));
    await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
    // A second drop, later in the stream.
    await expect(answer).toContainText('word1200 ');
    proxy.dropAll();
    await runEnded(page, 120_000);
    await expect(lastRun(page)).toHaveAttribute('data-status', 'done');
    const text = (await answer.innerText()).trim();
    expect(text.split(' ').length).toBe(3000);
    expect(text).toBe(words(3000));
    expect(sockets.length).toBeGreaterThanOrEqual(3);
    // Every socket had its own ticket, and resumed from where the page was.
    const tickets = sockets.map((u) => new URL(u).searchParams.get('ticket'));
    expect(new Set(tickets).size).toBe(sockets.length);
    const resumes = sockets.slice(1).map((u) => Number(new URL(u).searchParams.get('last_event_id')));
    for (const n of resumes) expect(n).toBeGreaterThan(0);
    await expect(page.getByTestId('run')).toHaveCount(1);
    await shot(page, 'reconnect-resumed');
  } finally {
    await proxy.close();
  }
});

test('while the server cannot be reached the page retries with backoff, then resumes the run', async ({ page }) => {
  const proxy = await startProxy(BASE_URL);
  try {
    await signIn(page, undefined, `${proxy.url}/`);
    await newSession(page);
    await send(page, 'stream 4000 words');
    const answer = lastRun(page).getByTestId('answer');
    await expect(answer).toContainText('word100 ');
    proxy.refuse(true);
    proxy.dropAll();
    await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'reconnecting');
    await page.waitForTimeout(4000);
    // Backoff, not a busy loop: a handful of attempts in 4 s (0.25-0.5 s, 0.5-1 s, 1-2 s, 2-4 s ...).
    expect(proxy.refused).toBeGreaterThanOrEqual(2);
    expect(proxy.refused).toBeLessThan(15);
    await expect(page.getByTestId('connection')).toContainText('Reconnecting');
    await shot(page, 'reconnect-backoff');
    proxy.refuse(false);
    await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open', { timeout: 20_000 });
    await runEnded(page, 120_000);
    expect((await answer.innerText()).trim()).toBe(words(4000));
  } finally {
    await proxy.close();
  }
});

test('while the socket is down a waiting confirmation cannot be answered; once back, Approve runs the tool', async ({ page }) => {
  const proxy = await startProxy(BASE_URL);
  try {
    await signIn(page, undefined, `${proxy.url}/`);
    await newSession(page);
    await send(page, 'use tool write_file {"path": "a.txt", "content": "hi"}');
    const card = page.getByTestId('confirmation');
    await expect(card.getByTestId('approve')).toBeEnabled();
    await expect(card.getByTestId('answer-offline')).toHaveCount(0);
    proxy.refuse(true);
    proxy.dropAll();
    await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'reconnecting');
    await expect(card.getByTestId('approve')).toBeDisabled();
    await expect(card.getByTestId('deny')).toBeDisabled();
    await expect(card.getByTestId('answer-offline')).toBeVisible();
    await shot(page, 'confirmation-offline');
    proxy.refuse(false);
    await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open', { timeout: 20_000 });
    await card.getByTestId('approve').click();
    await expect(card).toHaveCount(0);
    const run = await runEnded(page);
    await expect(run.getByTestId('answer')).toHaveText(/Tool write_file returned: .*a\.txt/);
  } finally {
    await proxy.close();
  }
});
