import { test, expect, signIn, newSession, send, lastRun, runEnded, shot, API_KEY } from './fixtures.mjs';

test('keyboard only: sign in, new session, send, approve, all without the mouse', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('api-key')).toBeFocused();
  await page.keyboard.type(API_KEY);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('signout')).toBeVisible();
  // Tab to the New button and press it.
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    if (await page.getByTestId('new-session').evaluate((el) => el === document.activeElement)) break;
  }
  await expect(page.getByTestId('new-session')).toBeFocused();
  // Focus is visible.
  const outline = await page.getByTestId('new-session').evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe('none');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('composer-input')).toBeFocused();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
  await page.keyboard.type('use tool write_file {"path": "k.txt", "content": "keys"}');
  await page.keyboard.press('Enter');
  const approve = page.getByTestId('approve');
  await expect(approve).toBeVisible();
  await approve.focus();
  await page.keyboard.press('Enter');
  await runEnded(page);
  await expect(lastRun(page).getByTestId('answer')).toContainText('returned');
  // Escape closes a dialog.
  await page.getByTestId('rename-session').first().focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('rename-dialog')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('rename-dialog')).not.toBeVisible();
  await shot(page, 'keyboard');
});

test('labels: every input of the chat and the forms has an accessible name', async ({ page }) => {
  await signIn(page);
  await newSession(page);
  await expect(page.getByLabel('Message')).toBeVisible();
  await page.getByTestId('nav-skills').click();
  await page.getByTestId('new-skill').click();
  const unlabeled = await page.evaluate(() =>
    [...document.querySelectorAll('input, textarea, select')]
      .filter((el) => el.getClientRects().length > 0)
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.closest('label'))
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  expect(unlabeled).toEqual([]);
});

test.describe('phone width', () => {
  test.use({ viewport: { width: 375, height: 740 } });

  test('the session list is a panel of its own, opened and closed with its button or Escape', async ({ page }) => {
    await signIn(page);
    // At phone width the list is hidden: the empty page offers its own New session button.
    await page.getByTestId('new-session-empty').click();
    await expect(page.getByTestId('connection')).toHaveAttribute('data-status', 'open');
    const panel = page.getByTestId('sessions-panel');
    const toggle = page.getByTestId('sessions-toggle');
    await expect(panel).toBeHidden();
    await expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await send(page, 'stream 30 words');
    await runEnded(page);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(375);
    await shot(page, 'phone-chat');
    await toggle.click();
    await expect(panel).toBeVisible();
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');
    await shot(page, 'phone-sessions');
    await page.keyboard.press('Escape');
    await expect(panel).toBeHidden();
    await toggle.click();
    await panel.getByTestId('session-item').first().locator('a').click();
    await expect(panel).toBeHidden();
  });
});

test('themes: the system preference, and a toggle that is remembered', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await signIn(page);
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const dark = await bg();
  await expect(page.getByTestId('theme-toggle')).toHaveAttribute('aria-pressed', 'true');
  await page.getByTestId('theme-toggle').click();
  await expect(page.getByTestId('theme-toggle')).toHaveAttribute('aria-pressed', 'false');
  const light = await bg();
  expect(light).not.toBe(dark);
  expect(await page.evaluate(() => localStorage.getItem('conclave.theme'))).toBe('light');
  await page.reload();
  await expect(page.getByTestId('theme-toggle')).toHaveAttribute('aria-pressed', 'false');
  expect(await bg()).toBe(light);
  await shot(page, 'theme-light');
  await page.getByTestId('theme-toggle').click();
  expect(await bg()).toBe(dark);
  await shot(page, 'theme-dark');
});
