import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startWorker } from '../../src/worker.ts';
import { type BuildOptions, build, type TestApp } from '../../test/helper.ts';
import { startSim, whoopEnv } from '../../test/integrations/support.ts';
import { freePort } from '../../test/support/free-port.ts';

export { freePort };

interface TestContext {
  teardown(fn: () => unknown): void;
  fullname: string;
}

export const artifactsDir = path.resolve('e2e-artifacts');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Debian's Chromium, never a downloaded browser; the flags keep it off this machine's closed network.
export async function launchBrowser(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  t.teardown(() => browser.close());
  return browser;
}

export interface RunningApp extends TestApp {
  baseUrl: string;
}

/**
 * The real app on its own database, listening on a free loopback port (or `port`). PUBLIC_BASE_URL is
 * that address unless the test sets it: pages asked for on another host name redirect there.
 */
export async function startApp(
  t: TestContext,
  options: BuildOptions & { port?: number } = {},
): Promise<RunningApp> {
  const { port = await freePort(), ...buildOptions } = options;
  const env = { PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, ...buildOptions.env };
  const testApp = await build(t, { ...buildOptions, env });
  const address = await testApp.app.listen({ host: '127.0.0.1', port });
  return { ...testApp, baseUrl: address };
}

/**
 * The app with the WHOOP simulator as its WHOOP (redirecting back to the app's own address) and a
 * graphile-worker of its own, as `npm start` runs them: links made in the browser sync by themselves.
 */
export async function startAppWithWhoop(t: TestContext) {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const sim = await startSim(t, { redirectUri: `${baseUrl}/integrations/whoop/callback` });
  const app = await startApp(t, { port, env: whoopEnv(sim, { PUBLIC_BASE_URL: baseUrl }) });
  const worker = await startWorker({
    databaseUrl: app.databaseUrl,
    services: app.services,
    logger: app.logs.logger,
  });
  t.teardown(() => worker.stop());
  return { baseUrl, sim, app };
}

/** Logs in through the form and lands on the Dashboard. */
export async function logInInBrowser(
  page: Page,
  baseUrl: string,
  person: { email: string; password: string },
) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${baseUrl}/`);
}

/** Signs up through the form, as a person does, and lands on the Dashboard. */
export async function signUpInBrowser(page: Page, baseUrl: string, person: { name: string; email: string }) {
  await page.goto(`${baseUrl}/signup`);
  await page.getByLabel('Name').fill(person.name);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel(/^Password/).fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${baseUrl}/`);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
