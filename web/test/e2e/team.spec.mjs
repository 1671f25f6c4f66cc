import { test, expect, signIn, newSession, send, runEnded, shot } from './fixtures.mjs';

test('a team run: the board shows the experts and the plan, every task reaches done, the synthesis is the answer', async ({ page }) => {
  await signIn(page);
  await newSession(page);
  await send(page, '/team stream 5 words');
  const board = page.getByTestId('team-board');
  await expect(board).toBeVisible();
  await expect(board.getByTestId('team-experts')).toContainText('researcher');
  await expect(board.getByTestId('team-experts')).toContainText('analyst');
  await expect(board.getByTestId('team-experts')).toContainText('writer');
  const tasks = board.getByTestId('task');
  await expect(tasks).toHaveCount(3);
  const run = await runEnded(page);
  await expect(run).toHaveAttribute('data-status', 'done');
  for (const id of ['research', 'analysis', 'writing']) {
    const task = board.locator(`[data-testid="task"][data-task-id="${id}"]`);
    await expect(task).toHaveAttribute('data-status', 'done');
    await expect(task.getByTestId('expert-result')).toHaveCount(1);
  }
  await expect(board.locator('[data-task-id="writing"]')).toContainText('after');
  // Each expert's stream is kept under its task.
  await board.locator('[data-task-id="research"] details.task-stream summary').click();
  await expect(board.locator('[data-task-id="research"]').getByTestId('expert-stream')).toContainText('word5');
  await expect(board.getByTestId('team-status')).toContainText('completed');
  const answer = run.getByTestId('answer');
  await expect(answer).toContainText('research');
  await expect(answer).toContainText('writing');
  await expect(run.getByTestId('usage')).toBeVisible();
  await shot(page, 'team-board');
});
