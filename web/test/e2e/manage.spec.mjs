import { test, expect, signIn, newSession, send, lastRun, runEnded, shot, rest } from './fixtures.mjs';

test.beforeEach(async ({ page }) => {
  await signIn(page);
});

test('skills: create, edit, delete; a message with its keyword matches it', async ({ page }) => {
  const name = `rainbow-${Date.now().toString(36)}`;
  await page.getByTestId('nav-skills').click();
  await expect(page.getByTestId('skills-page')).toBeVisible();
  await page.getByTestId('new-skill').click();
  const form = page.getByTestId('skill-form');
  await form.getByTestId('skill-name').fill(name);
  await form.getByTestId('skill-description').fill('Talks about colours');
  await form.getByTestId('skill-keywords').fill('rainbow, umbrella');
  await form.getByTestId('skill-instructions').fill('Answer about rainbows.');
  await form.getByTestId('skill-limit-tools').check();
  await form.locator('input[value="calculator"]').check();
  await shot(page, 'skill-form');
  await form.getByTestId('skill-save').click();
  await expect(page.getByTestId('skill-dialog')).not.toBeVisible();
  const item = page.locator(`[data-testid="skill-item"][data-name="${name}"]`);
  await expect(item).toContainText('Talks about colours');
  await expect(item).toContainText('rainbow, umbrella');
  await expect(item).toContainText('tools: calculator');
  const stored = await rest('GET', `/skills/${name}`);
  expect(stored.data.tools).toEqual(['calculator']);

  // A duplicate name is refused with the server's reason.
  await page.getByTestId('new-skill').click();
  await form.getByTestId('skill-name').fill(name);
  await form.getByTestId('skill-keywords').fill('x');
  await form.getByTestId('skill-instructions').fill('y');
  await form.getByTestId('skill-save').click();
  await expect(form.getByTestId('form-error')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('skill-dialog')).not.toBeVisible();

  // Edit.
  await item.getByTestId('edit-skill').click();
  await expect(form.getByTestId('skill-name')).toBeDisabled();
  await form.getByTestId('skill-description').fill('Talks about rainbows and umbrellas');
  await form.getByTestId('skill-save').click();
  await expect(item).toContainText('Talks about rainbows and umbrellas');
  expect((await rest('GET', `/skills/${name}`)).data.description).toBe('Talks about rainbows and umbrellas');
  await shot(page, 'skills');

  // Used by a message with its keyword.
  await page.getByTestId('nav-chat').click();
  await newSession(page);
  await send(page, 'is there a rainbow today?');
  const run = await runEnded(page);
  await expect(run.getByTestId('skill-match')).toHaveAttribute('data-skill', name);
  await expect(run.getByTestId('skill-match')).toContainText('rainbow');
  await shot(page, 'skill-match');

  // Delete (with confirmation).
  await page.getByTestId('nav-skills').click();
  await item.getByTestId('delete-skill').click();
  await page.getByTestId('confirm-yes').click();
  await expect(item).toHaveCount(0);
  expect((await rest('GET', `/skills/${name}`)).status).toBe(404);
});

test('experts: built-in ones are read-only; create, edit and delete an own expert', async ({ page }) => {
  const name = `poet-${Date.now().toString(36)}`;
  await page.getByTestId('nav-experts').click();
  const builtIn = page.locator('[data-testid="expert-item"][data-built-in="true"]');
  await expect(builtIn).toHaveCount(4);
  await expect(builtIn.getByTestId('edit-expert')).toHaveCount(0);
  await expect(builtIn.getByTestId('delete-expert')).toHaveCount(0);
  await page.getByTestId('new-expert').click();
  const form = page.getByTestId('expert-form');
  await form.getByTestId('expert-name').fill(name);
  await form.getByTestId('expert-role').fill('Writes short poems');
  await form.getByTestId('expert-instructions').fill('Write a haiku.');
  await form.getByTestId('expert-save').click();
  const item = page.locator(`[data-testid="expert-item"][data-name="${name}"]`);
  await expect(item).toContainText('Writes short poems');
  await item.getByTestId('edit-expert').click();
  await form.getByTestId('expert-role').fill('Writes very short poems');
  await form.getByTestId('expert-save').click();
  await expect(item).toContainText('Writes very short poems');
  expect((await rest('GET', `/experts/${name}`)).data.role).toBe('Writes very short poems');
  await shot(page, 'experts');
  await item.getByTestId('delete-expert').click();
  await page.getByTestId('confirm-yes').click();
  await expect(item).toHaveCount(0);
  expect((await rest('GET', `/experts/${name}`)).status).toBe(404);
});

test('tools: the built-in tools, and which need confirmation', async ({ page }) => {
  await page.getByTestId('nav-tools').click();
  const list = page.getByTestId('tool-list');
  for (const t of ['calculator', 'ask_human', 'read_file', 'list_files', 'write_file', 'http_get', 'convene_team']) {
    await expect(list.locator(`[data-testid="tool-item"][data-name="${t}"]`)).toHaveCount(1);
  }
  await expect(list.locator('[data-name="write_file"]').getByTestId('needs-confirmation')).toBeVisible();
  await expect(list.locator('[data-name="http_get"]').getByTestId('needs-confirmation')).toBeVisible();
  await expect(list.locator('[data-name="calculator"]').getByTestId('needs-confirmation')).toHaveCount(0);
  await shot(page, 'tools');
});

test('API keys: a new key is shown once with Copy, then revoked', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const name = `key-${Date.now().toString(36)}`;
  await page.getByTestId('nav-keys').click();
  await page.getByTestId('key-name').fill(name);
  await page.getByTestId('create-key').click();
  const card = page.getByTestId('new-key-card');
  await expect(card).toBeVisible();
  const key = (await card.getByTestId('new-key').innerText()).trim();
  expect(key).toMatch(/^ck_[A-Za-z0-9_-]{43}$/);
  await card.getByTestId('copy-key').click();
  await expect(card.getByTestId('copy-status')).toBeVisible();
  const clip = await page.evaluate(() => navigator.clipboard.readText().catch(() => null));
  const selected = await page.evaluate(() => String(window.getSelection()));
  expect(clip === key || selected === key).toBe(true);
  await shot(page, 'key-created');
  const row = page.locator('[data-testid="key-row"]').filter({ hasText: name });
  await expect(row).toHaveAttribute('data-revoked', 'false');
  // The key works.
  expect((await fetch(`${process.env.CONCLAVE_BASE_URL}/api/v1/me`, { headers: { 'X-API-Key': key } })).status).toBe(200);
  await card.getByTestId('dismiss-key').click();
  await expect(page.getByTestId('new-key-card')).toHaveCount(0);
  await expect(page.getByText(key)).toHaveCount(0);
  await row.getByTestId('revoke-key').click();
  await page.getByTestId('confirm-yes').click();
  await expect(row).toHaveAttribute('data-revoked', 'true');
  await expect(row.getByTestId('key-state')).toContainText('revoked');
  expect((await fetch(`${process.env.CONCLAVE_BASE_URL}/api/v1/me`, { headers: { 'X-API-Key': key } })).status).toBe(401);
  await shot(page, 'key-revoked');
});

test('sessions: rename, delete with confirmation, load more', async ({ page }) => {
  const id = await newSession(page);
  await page.locator(`[data-testid="session-item"][data-session-id="${id}"]`).getByTestId('rename-session').click();
  await page.getByTestId('rename-input').fill('My renamed session');
  await page.getByTestId('rename-input').press('Enter');
  await expect(page.locator(`[data-session-id="${id}"]`)).toContainText('My renamed session');
  await expect(page.getByTestId('session-title')).toHaveText('My renamed session');
  expect((await rest('GET', `/sessions/${id}`)).data.title).toBe('My renamed session');

  // Enough sessions for a second page.
  for (let i = 0; i < 31; i++) await rest('POST', '/sessions', { title: `bulk ${i}` });
  await page.reload();
  await expect(page.getByTestId('session-item')).toHaveCount(30);
  await page.getByTestId('load-more-sessions').click();
  await expect.poll(async () => page.getByTestId('session-item').count()).toBeGreaterThan(30);
  // Newest first.
  await expect(page.getByTestId('session-item').first()).toContainText('bulk 30');
  await shot(page, 'sessions');

  const item = page.locator(`[data-testid="session-item"][data-session-id="${id}"]`);
  await item.getByTestId('delete-session').click();
  await expect(page.getByTestId('confirm-dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(item).toHaveCount(1);
  await item.getByTestId('delete-session').click();
  await page.getByTestId('confirm-yes').click();
  await expect(item).toHaveCount(0);
  expect((await rest('GET', `/sessions/${id}`)).status).toBe(404);
});
