// The sign-in pages in a real browser: Debian's Chromium driven by playwright-core (no browser
// download), at phone width (360 px) and desktop width. Run by tests/it/pages.rs.
//
// Environment: CC_BASE (server URL, auth mode on, no user yet), CC_SHOTS (directory for
// screenshots), PW_NODE_MODULES (node_modules holding playwright-core), CHROMIUM (executable,
// default /usr/bin/chromium). Prints one line per check; exits 1 on the first failure.

import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const env = process.env;
const require = createRequire(`${resolve(env.PW_NODE_MODULES)}/`);
const { chromium } = require('playwright-core');
const base = env.CC_BASE;
const shots = env.CC_SHOTS;

function check(name, ok, detail = '') {
  if (!ok) {
    console.log(`FAIL ${name}: ${detail}`);
    process.exit(1);
  }
  console.log(`ok ${name}`);
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || '/usr/bin/chromium',
  // As the machine notes ask: no background networking (the sandbox has no internet).
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  for (const [label, width] of [['phone', 360], ['desktop', 1280]]) {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    const page = await context.newPage();
    // The dashboard names the viewer in its header ("Signed in as <name>"); the server-rendered
    // pages (and a server built without the dashboard) name them in a link to their account.
    const signedInAs = async (name) => {
      const link = page
        .locator('a[href="/admin/account"]', { hasText: name })
        .or(page.locator('header .who-name strong', { hasText: name }))
        .first();
      await link.waitFor({ state: 'attached', timeout: 15000 });
      return (await link.textContent()).trim() === name;
    };
    const fitsWidth = async (name) => {
      const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
      check(`${label} ${name} fits ${width}px`, scroll <= width, `scrollWidth ${scroll}`);
    };

    if (label === 'phone') {
      // First run: the dashboard sends the browser to setup.
      await page.goto(`${base}/admin/`);
      check('first run leads to setup', page.url().endsWith('/admin/setup'), page.url());
      await page.screenshot({ path: `${shots}/setup-${label}.png`, fullPage: true });
      check('setup form visible', await page.getByLabel('Username').isVisible());
      await fitsWidth('setup');
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Create administrator' }).click();
      await page.waitForURL(`${base}/admin/`);
      check('setup signs in', await signedInAs('admin'));
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/admin\/login/);
    }

    await page.goto(`${base}/admin/login`);
    await page.screenshot({ path: `${shots}/login-${label}.png`, fullPage: true });
    check(`${label} login form visible`, await page.getByLabel('Password').isVisible());
    await fitsWidth('login');
    // A wrong password shows an error on the page.
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    check(`${label} wrong password is shown`, (await alert.textContent()).includes('invalid username or password'));
    await page.screenshot({ path: `${shots}/login-error-${label}.png`, fullPage: true });
    // The right one submits and signs in.
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/admin/`);
    check(`${label} login submits`, await signedInAs('admin'));

    await page.goto(`${base}/admin/account`);
    await page.getByLabel('New token name').fill(`${label}-token`);
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = await page.locator('code.secret').textContent();
    check(`${label} token shown once`, /^m2c_[0-9a-f]{64}$/.test(secret.trim()), secret);
    await page.screenshot({ path: `${shots}/account-${label}.png`, fullPage: true });
    await fitsWidth('account');

    await page.goto(`${base}/admin/register`);
    check(`${label} registration closed is said`, (await page.textContent('main')).includes('Registration is closed'));
    await page.screenshot({ path: `${shots}/register-${label}.png`, fullPage: true });
    await context.close();
  }
} finally {
  await browser.close();
}
console.log('all ok');
