// End-to-end tests in Debian's Chromium against a running Conclave server:
//   CONCLAVE_BASE_URL=http://127.0.0.1:PORT CONCLAVE_API_KEY=<an admin key> npm run test:e2e
// (the server started with Conclave__Llm__Builtin__TokenDelayMs=1). Screenshots of each flow go to
// test-results/screenshots/NAME.png.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './test/e2e',
  testMatch: /.*\.spec\.mjs$/,
  outputDir: './test-results/playwright',
  timeout: 180_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  // One worker by default: the tests share one server, and a long stream in one test should not slow another's.
  workers: Number(process.env.CONCLAVE_E2E_WORKERS ?? 1),
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.CONCLAVE_BASE_URL,
    headless: true,
    viewport: { width: 1280, height: 800 },
    actionTimeout: 20_000,
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    },
  },
});
