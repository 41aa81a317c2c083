import t from 'tap';
import { captureState } from './support/axe.ts';
import { launchBrowser, startApp } from './support/harness.ts';

t.test('a person signs up, logs out and logs back in', async (t) => {
  const { baseUrl } = await startApp(t);
  const browser = await launchBrowser(t);
  const page = await browser.newPage({ timezoneId: 'America/New_York' });

  await page.goto(`${baseUrl}/signup`);
  t.equal(
    await page.locator('#timeZone').inputValue(),
    'America/New_York',
    'time zone defaults from the browser',
  );
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel(/^Password/).fill('analytical engine');
  await captureState(t, page, 'signup');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.waitForURL(`${baseUrl}/`);
  t.equal(await page.locator('h1').textContent(), 'Dashboard');
  t.equal(await page.locator('.account a').textContent(), 'Ada Lovelace');
  await captureState(t, page, 'dashboard-empty');

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${baseUrl}/login`);
  await page.goto(`${baseUrl}/sleep`);
  t.match(page.url(), /\/login\?next=%2Fsleep$/, 'pages ask for a login again');

  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Log in' }).click();
  t.equal(await page.getByRole('alert').textContent(), 'Email or password is incorrect.');
  await captureState(t, page, 'login-error');

  await page.getByLabel('Password').fill('analytical engine');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${baseUrl}/sleep`);
  t.equal(await page.locator('h1').textContent(), 'Sleep', 'login returns to the page that asked for it');

  const account = await page.goto(`${baseUrl}/account`);
  t.equal(account?.status(), 200);
  t.equal(
    await page.locator('#timeZone').inputValue(),
    'America/New_York',
    'the time zone was saved at sign-up',
  );
  await captureState(t, page, 'account-page');

  // The forms to log by hand, with their errors, and the error page.
  await page.goto(`${baseUrl}/sleep/new`);
  await captureState(t, page, 'sleep-form');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.field-error').first().waitFor();
  await captureState(t, page, 'sleep-form-errors');
  await page.goto(`${baseUrl}/exercises/new`);
  await captureState(t, page, 'workout-form');
  const missing = await page.goto(`${baseUrl}/no-such-page`);
  t.equal(missing?.status(), 404);
  await captureState(t, page, 'not-found');
});
