// The dashboard SPA in a real browser: Debian's Chromium driven by playwright-core (no browser
// download), against a running server in auth mode with an administrator already set up.
// Signs in, creates a host and copies its installer command, sees it appear live on the
// overview, opens its detail, edits the config and sees the preview change, creates and revokes
// a personal token, views the usage charts, browses memories, toggles the kill switch and back;
// the area step modules in dashboard_steps/ (config history and content, profiles and host
// overrides, my account and the users editor) run on the same signed-in page;
// checks for CSP violations and page errors, runs axe-core on every main page, checks 360 px has
// no horizontal scroll, and saves screenshots.
//
// Environment: CC_BASE (server URL), CC_USER / CC_PASSWORD (the administrator), CC_SHOTS
// (directory for screenshots), PW_NODE_MODULES (node_modules holding playwright-core and
// axe-core), CHROMIUM (executable, default /usr/bin/chromium). Prints one line per check and
// `all ok` at the end; exits 1 on the first failure.

import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import * as configSteps from './dashboard_steps/config.mjs';
import * as profileSteps from './dashboard_steps/profiles.mjs';
import * as accountSteps from './dashboard_steps/account.mjs';

const env = process.env;
const require = createRequire(`${resolve(env.PW_NODE_MODULES)}/`);
const { chromium } = require('playwright-core');
const axe = require('axe-core');
const base = env.CC_BASE;
const shots = env.CC_SHOTS;
const user = env.CC_USER || 'admin';
const password = env.CC_PASSWORD;

function check(name, ok, detail = '') {
  if (!ok) {
    console.log(`FAIL ${name}: ${detail}`);
    process.exit(1);
  }
  console.log(`ok ${name}`);
}

/** Waits until `fn` returns a truthy value (polling), or fails the check after `ms`. */
async function eventually(name, fn, ms = 15000) {
  const until = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) check(name, false, `timed out (last: ${last})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A ChatGPT-mode auth.json with unsigned JWTs (the server only decodes their claims). */
function chatgptAuthJson() {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 10 * 86400;
  const claims = { chatgpt_plan_type: 'team', chatgpt_account_id: 'acc-e2e-1234', chatgpt_user_id: 'user-e2e-5678' };
  const jwt = (c) => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(c)}.${randomBytes(64).toString('base64url')}`;
  return {
    OPENAI_API_KEY: null,
    tokens: {
      id_token: jwt({ email: 'fleet@example.test', exp, 'https://api.openai.com/auth': claims }),
      access_token: jwt({ exp, 'https://api.openai.com/auth': claims }),
      refresh_token: `rt_${randomBytes(32).toString('hex')}`,
      account_id: 'acc-e2e-1234',
    },
    last_refresh: new Date().toISOString(),
  };
}

const stamp = Date.now().toString(36);
const fqdn = `e2e-${stamp}.example.test`;

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || '/usr/bin/chromium',
  // As the machine notes ask: no background networking (the sandbox has no internet).
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const problems = [];
function watch(page, label) {
  page.on('console', (msg) => {
    const text = msg.text();
    if (text.includes('Content Security Policy')) problems.push(`${label} CSP: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`${label} page error: ${err.message}`));
}

/** axe-core on the current page; fails on serious or critical violations (printed). */
async function runAxe(page, name) {
  // addScriptTag would be blocked by the CSP; evaluating through the debugger protocol is not.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axe.source);
  const result = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ['violations'] }).then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
      })),
    ),
  );
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of bad) console.log(`  axe ${name}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.join(', ')}`);
  check(`axe ${name}: no serious or critical violations`, bad.length === 0, bad.map((v) => v.id).join(', '));
}

/** A full-page screenshot from the top (sticky header and nav stay in place). */
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

/** Waits (up to 15 s, then goes on) until the page's first answers replaced its spinners. */
async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('main .state.loading'), null, { timeout: 15000 }).catch(() => {});
}

/** No horizontal scroll at 360 px (the page's width now). */
async function fitsWidth(page, name) {
  await page.waitForTimeout(300);
  const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
  check(`phone: ${name} fits 360 px`, scroll <= 360, `scrollWidth ${scroll}`);
}

/** A desktop page checked at 360 px (`narrow` runs while it is that narrow), then restored. */
async function fitsPhone(page, name, narrow = async () => {}) {
  await page.setViewportSize({ width: 360, height: 780 });
  await fitsWidth(page, name);
  await narrow();
  await page.setViewportSize({ width: 1280, height: 900 });
}

async function heading(page, text) {
  await page.getByRole('heading', { level: 1, name: text }).waitFor({ timeout: 15000 });
}

/** Goes to a hash route by its nav link (keeps the SPA loaded) and waits for its heading. */
async function nav(page, link, title = link) {
  const menu = page.getByRole('button', { name: 'Open menu' });
  if (await menu.isVisible()) await menu.click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link, exact: true }).click();
  await heading(page, title);
  // Let first answers arrive so screenshots and axe see content, not spinners.
  await settled(page);
}

/** Goes to a hash route directly (e.g. '#/config/history') and waits for its heading. */
async function gotoHash(page, hash, title) {
  await page.evaluate((h) => { window.location.hash = h; }, hash);
  await heading(page, title);
  await settled(page);
}

/** What a step module (tests/clients/dashboard_steps/*.mjs) gets to drive the signed-in page. */
function steps(page) {
  return { page, base, stamp, user, password, check, eventually, heading, nav, gotoHash, settled, fitsPhone, shot, runAxe };
}

async function hostPost(path, key, body) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  const page = await context.newPage();
  watch(page, 'desktop');

  // ---- Sign in through the server's page; land on the SPA.
  await page.goto(`${base}/admin/`);
  check('signed-out visitor is sent to sign in', /\/admin\/login/.test(page.url()), page.url());
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin\/(#.*)?$/);
  await heading(page, 'Overview');
  check('sign-in lands on the dashboard overview', true);
  check('header names the signed-in user', (await page.locator('header').textContent()).includes(user));
  check('sign-out form is there', await page.getByRole('button', { name: 'Sign out' }).isVisible());
  const csp = (await page.request.get(`${base}/admin/`)).headers()['content-security-policy'] || '';
  check('index.html has a strict CSP', csp.includes("script-src 'self'") && !csp.includes('unsafe-inline'), csp);
  const index = await page.request.get(`${base}/admin/`);
  check('index.html is revalidated (no-cache)', index.headers()['cache-control'] === 'no-cache', index.headers()['cache-control']);
  const bundle = (await index.text()).match(/src="(\/admin\/assets\/[^"]+\.js)"/)?.[1];
  const asset = await page.request.get(`${base}${bundle}`);
  check('hashed bundles are cached as immutable', asset.ok() && /immutable/.test(asset.headers()['cache-control'] ?? ''), `${bundle} ${asset.headers()['cache-control']}`);

  // A reload shows the overview again. How fast (with 10,000 hosts) is scripts/bench/dashboard's
  // figure, not a timed check that could flake on a busy machine.
  const t0 = Date.now();
  await page.reload();
  await page.getByTestId('hosts-total').waitFor({ timeout: 15000 });
  console.log(`info overview interactive after a reload in ${Date.now() - t0} ms (debug server)`);
  const totalText = await page.getByTestId('hosts-total').textContent({ timeout: 15000 });
  const before = Number(totalText.replace(/[^0-9]/g, ''));
  check('overview shows the host count', Number.isFinite(before), totalText);
  await shot(page, 'overview-desktop');
  await runAxe(page, 'overview');

  // ---- New host, in a second tab: the installer command, copied with the Copy button. The
  // first tab stays on the overview, which follows a server stream: the host shows up there
  // without a reload or a navigation.
  const tab = await context.newPage();
  watch(tab, 'second tab');
  await tab.goto(`${base}/admin/#/hosts/new`);
  await heading(tab, 'New host');
  await tab.getByLabel('Host name (fqdn)').fill(fqdn);
  await runAxe(tab, 'new host form');
  await tab.getByRole('button', { name: 'Register host' }).click();
  const command = (await tab.getByTestId('installer-command').textContent({ timeout: 15000 })).trim();
  check('installer command is shown', /curl .*\/install\/\S+/.test(command), command);
  const hostKey = (await tab.getByTestId('host-key').textContent()).trim();
  check('host key is shown once', hostKey.length >= 32, hostKey);
  check('expiry countdown runs', /\d+:\d\d/.test(await tab.getByRole('timer').first().textContent()));
  await tab.getByRole('button', { name: 'Copy installer command' }).click();
  await tab.getByRole('button', { name: 'Copied' }).waitFor({ timeout: 5000 });
  const clip = await tab.evaluate(() => navigator.clipboard.readText());
  check('Copy puts the installer command on the clipboard', clip === command, clip);
  await shot(tab, 'newhost-desktop');
  await runAxe(tab, 'new host result');
  // Well under the 5 s the server rechecks on its own: the registration itself pushed it.
  await eventually('the new host appears live on the overview', async () => {
    const t = await page.getByTestId('hosts-total').textContent();
    return Number(t.replace(/[^0-9]/g, '')) === before + 1;
  }, 4000);
  check('the new host appears live on the overview', page.url().endsWith('/admin/') || page.url().endsWith('/admin/#/'), page.url());
  await tab.close();

  // Seed usage and a memory through the host's own routes, with its key.
  const usage = await hostPost('/usage', hostKey, {
    usages: [
      { line: 'Token usage: total=12,345 input=10,000 (+ 4,000 cached) output=2,345 (reasoning 1,000)', model: 'gpt-5.1-codex' },
      { line: 'Token usage: total=2,000 input=1,500 (+ 500 cached) output=500 (reasoning 100)', model: 'gpt-5.1-codex-mini' },
    ],
  });
  check('usage reported with the host key', usage.status === 200, `${usage.status} ${usage.text}`);
  const memTitle = `E2E note ${stamp}`;
  const mem = await hostPost('/mcp/memories/store', hostKey, {
    id: `e2e-${stamp}`,
    title: memTitle,
    content: `The deploy script for ${fqdn} lives in tools/deploy.sh; run it with --canary first.`,
    tags: ['e2e', 'deploy'],
  });
  check('memory stored with the host key', mem.status === 200 || mem.status === 201, `${mem.status} ${mem.text}`);

  // ---- Hosts list: search, then the host's detail.
  await nav(page, 'Hosts');
  await page.getByLabel('Search by name').fill(fqdn);
  const hostLink = page.getByRole('link', { name: fqdn });
  await hostLink.waitFor({ timeout: 15000 });
  check('hosts list finds the new host', true);
  await shot(page, 'hosts-desktop');
  await runAxe(page, 'hosts');
  await hostLink.click();
  await heading(page, fqdn);
  await page.getByRole('heading', { name: 'auth.json digests' }).waitFor();
  const vip = page.getByRole('switch', { name: 'VIP' });
  check('host detail shows the VIP switch off', !(await vip.isChecked()));
  await vip.click();
  await eventually('VIP switch turns on through SetHostVip', async () => (await vip.isChecked()) && (await page.getByText('VIP', { exact: true }).first().isVisible()));
  check('VIP switch turns on through SetHostVip', true);
  await shot(page, 'host-desktop');
  await runAxe(page, 'host detail');

  // ---- Config builder: an edit changes the live preview.
  await nav(page, 'Config builder');
  const preview = page.getByTestId('config-preview');
  await preview.waitFor({ timeout: 15000 });
  const model = `gpt-e2e-${stamp}`;
  await page.getByLabel('Model', { exact: true }).fill(model);
  await eventually('config preview follows the edit', async () => (await preview.textContent()).includes(model));
  check('config preview follows the edit', true);
  await page.getByLabel('Extra TOML (appended verbatim)').fill('this is = = not toml');
  await page.getByTestId('preview-error').waitFor({ timeout: 15000 });
  check('invalid TOML is reported inline', true);
  await page.getByLabel('Extra TOML (appended verbatim)').fill('');
  await eventually('the inline error goes once the TOML is valid again', async () => (await page.getByTestId('preview-error').count()) === 0);
  await shot(page, 'config-desktop');
  await runAxe(page, 'config');

  // ---- Config history, requirements, content and skills; profiles and a host override.
  await configSteps.run(steps(page));
  await profileSteps.run(steps(page));

  // ---- Personal token: create (shown once), revoke (confirmation dialog).
  await nav(page, 'My tokens');
  const tokenName = `e2e-${stamp}`;
  await page.getByLabel('Token name').fill(tokenName);
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.getByTestId('token-secret').textContent({ timeout: 15000 })).trim();
  check('token secret shown once', /^m2c_[0-9a-f]{64}$/.test(secret), secret);
  const row = page.getByRole('row').filter({ hasText: tokenName });
  await row.waitFor();
  await shot(page, 'tokens-desktop');
  await runAxe(page, 'tokens');
  await row.getByRole('button', { name: 'Revoke' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await runAxe(page, 'confirmation dialog');
  await dialog.getByRole('button', { name: 'Revoke token' }).click();
  await eventually('revoked token leaves the active list', async () => (await row.count()) === 0);
  await page.getByLabel('Show revoked').check();
  await eventually('revoked token is listed as revoked', async () =>
    (await page.getByRole('row').filter({ hasText: tokenName }).textContent()).includes('revoked'));
  check('token revoked', true);
  const revoked = await fetch(`${base}/api/v1/whoami`, { headers: { authorization: `Bearer ${secret}` } });
  check('revoked token is refused by the server', revoked.status === 401, String(revoked.status));

  // ---- Usage: charts with axes and legend, totals, the CSV link.
  await nav(page, 'Usage');
  await page.locator('.chart canvas').first().waitFor({ timeout: 15000 });
  check('usage chart is drawn', (await page.locator('.chart canvas').count()) >= 2);
  check('chart has a legend', (await page.locator('.chart .u-legend').first().textContent()).includes('Reasoning'));
  await page.getByRole('cell', { name: 'gpt-5.1-codex-mini' }).waitFor({ timeout: 15000 });
  check('totals per model listed', true);
  const box = await page.locator('.chart .u-over').first().boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  check('chart tooltip shows on hover', await page.locator('.chart-tip').first().isVisible());
  // New usage shows on the open page by itself (the usage summary stream moves).
  await page.getByText('live', { exact: true }).waitFor({ timeout: 15000 });
  const liveModel = `gpt-live-${stamp}`;
  const more = await hostPost('/usage', hostKey, { input_tokens: 50, output_tokens: 5, total_tokens: 55, model: liveModel, session_id: `s-${stamp}`, response_id: `resp-live-${stamp}` });
  check('more usage reported', more.status === 200, `${more.status} ${more.text}`);
  await page.getByRole('cell', { name: liveModel }).waitFor({ timeout: 8000 });
  check('usage tables update live when usage arrives', true);
  const csvHref = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
  const csv = await page.request.get(`${base}${csvHref}`);
  check('CSV export link answers CSV', csv.status() === 200 && (await csv.text()).includes('gpt-5.1-codex'), `${csv.status()}`);
  await shot(page, 'usage-desktop');
  await runAxe(page, 'usage');

  // ---- Pricing: a bad amount is refused in the form, a price is added and listed, then deleted
  // (confirmation dialog).
  await nav(page, 'Pricing');
  const priceModel = `e2e-model-${stamp}`;
  await page.getByLabel('Model', { exact: true }).fill(priceModel);
  await page.getByLabel('Input per 1M', { exact: true }).fill('1.2.5');
  await page.getByLabel('Output per 1M', { exact: true }).fill('10');
  await page.getByRole('button', { name: 'Add price' }).click();
  await page.getByText('Prices are amounts per 1M tokens').waitFor({ timeout: 15000 });
  check('pricing form refuses a malformed amount', true);
  await page.getByLabel('Input per 1M', { exact: true }).fill('1.25');
  await page.getByRole('button', { name: 'Add price' }).click();
  const priceRow = page.getByRole('row').filter({ hasText: priceModel });
  await priceRow.waitFor({ timeout: 15000 });
  const priceText = await priceRow.textContent();
  check('added price is listed per 1M tokens', priceText.includes('$1.25') && priceText.includes('$10.00'), priceText);
  await shot(page, 'pricing-desktop');
  await runAxe(page, 'pricing');
  await priceRow.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete price' }).click();
  await eventually('deleted price leaves the list', async () => (await priceRow.count()) === 0);

  // ---- Memories: list, search, one memory.
  await nav(page, 'Memories');
  await page.getByRole('link', { name: memTitle }).waitFor({ timeout: 15000 });
  await page.getByLabel('Search memories').fill('canary');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('link', { name: memTitle }).waitFor({ timeout: 15000 });
  check('memory search finds the note', true);
  const mcpLog = page.getByRole('region', { name: 'MCP access log' });
  await mcpLog.waitFor({ timeout: 15000 });
  await mcpLog.locator('table, .state.empty').first().waitFor({ timeout: 15000 });
  check('memories page shows the MCP access log to staff', true);
  await shot(page, 'memories-desktop');
  await runAxe(page, 'memories');
  await page.getByRole('link', { name: memTitle }).click();
  await heading(page, memTitle);
  check('memory opens in full', (await page.locator('main pre').first().textContent()).includes('tools/deploy.sh'));
  await runAxe(page, 'memory');

  // ---- Kill switch on and back off, each through its confirmation dialog.
  await nav(page, 'Kill switch & policy');
  const state = page.getByTestId('api-state');
  check('kill switch starts off', (await state.textContent()).includes('served normally'));
  const releases = page.getByRole('region', { name: 'cdx releases' });
  await releases.locator('table, .state.empty').first().waitFor({ timeout: 15000 });
  check('policy page lists the cdx releases hosts download', (await releases.textContent()).includes('/wrapper/download'));
  // Publish a build from a file: a wrong expected SHA-256 is refused at its field, the right one
  // lists it, hosts of that platform are offered it; then it is removed.
  const build = Buffer.from(`#!/bin/sh\necho cdx e2e ${stamp}\n`);
  const buildSha = createHash('sha256').update(build).digest('hex');
  const buildPlatform = `linux-e2e${stamp}`;
  await releases.getByText('Publish a build').click();
  await releases.getByLabel('Build file').setInputFiles({ name: `cdx-${buildPlatform}`, mimeType: 'application/octet-stream', buffer: build });
  check('the platform is read from the file name', (await releases.getByLabel('Platform').inputValue()) === buildPlatform);
  await releases.getByLabel('Version').fill('9.9.9-e2e');
  await releases.getByLabel('Expected SHA-256 (optional)').fill('0'.repeat(64));
  await releases.getByRole('button', { name: 'Publish build' }).click();
  await releases.getByTestId('field-error').filter({ hasText: 'sha256' }).waitFor({ timeout: 15000 });
  check('a build whose SHA-256 differs is refused at that field', true);
  await releases.getByLabel('Expected SHA-256 (optional)').fill(buildSha);
  await releases.getByRole('button', { name: 'Publish build' }).click();
  await releases.getByText(`Published cdx 9.9.9-e2e for ${buildPlatform}`).waitFor({ timeout: 15000 });
  const buildRow = releases.getByRole('row').filter({ hasText: buildPlatform });
  await buildRow.waitFor({ timeout: 15000 });
  const offered = await fetch(`${base}/wrapper?platform=${buildPlatform}`, { headers: { 'x-api-key': hostKey } });
  const offeredText = await offered.text();
  check('hosts of that platform are offered the published build', offered.ok && offeredText.includes(buildSha), `${offered.status} ${offeredText.slice(0, 200)}`);
  await buildRow.getByRole('button', { name: 'Remove' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove build' }).click();
  await eventually('the removed build leaves the list', async () => (await buildRow.count()) === 0);
  await page.getByRole('button', { name: 'Turn the kill switch on' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Stop all hosts' }).click();
  await eventually('kill switch turns on', async () => (await state.textContent()).includes('503'));
  // Host-facing answers may be cached for up to a second (SPEC §14): poll briefly.
  await eventually('hosts get 503 while the kill switch is on', async () =>
    (await hostPost('/usage', hostKey, { line: 'Token usage: total=1 input=1 output=0' })).status === 503, 5000);
  check('hosts get 503 while the kill switch is on', true);
  await shot(page, 'fleet-desktop');
  await runAxe(page, 'kill switch');
  await page.getByRole('button', { name: 'Turn the kill switch off' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Serve hosts' }).click();
  await eventually('kill switch turns off', async () => (await state.textContent()).includes('served normally'));
  await eventually('hosts are served again', async () =>
    (await hostPost('/usage', hostKey, { line: 'Token usage: total=1 input=1 output=0' })).status === 200, 5000);
  check('hosts are served again', true);

  // ---- Canonical auth: upload an auth.json through the form; its claims show.
  await nav(page, 'Canonical auth');
  await page.getByLabel('or paste its JSON').fill(JSON.stringify(chatgptAuthJson()));
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  await page.getByText('Upload stored as the canonical copy.').waitFor({ timeout: 15000 });
  await page.getByText('fleet@example.test').first().waitFor({ timeout: 15000 });
  check('uploaded auth.json shows account, plan and expiry', (await page.locator('main').textContent()).includes('team'));

  // ---- The remaining pages: content, screenshots, axe.
  for (const [link, title, name] of [
    ['Canonical auth', 'Canonical auth', 'auth'],
    ['Alerts', 'Alerts', 'alerts'],
    ['Audit log', 'Audit log', 'audit'],
    ['Users', 'Users', 'users'],
    ['Providers', 'Providers', 'providers'],
    ['Settings', 'Settings', 'settings'],
    ['My Codex config', 'My Codex config', 'codex-config'],
  ]) {
    await nav(page, link, title);
    await shot(page, `${name}-desktop`);
    await runAxe(page, name);
  }
  // The seeded 96 % quota window raised the fleet's 95 % alert and a webhook delivery.
  await nav(page, 'Alerts');
  const alertRow = page.getByRole('row').filter({ hasText: 'quota_5h' }).first();
  await alertRow.waitFor({ timeout: 15000 });
  check('the raised quota alert is listed', (await alertRow.textContent()).includes('95'), await alertRow.textContent());
  const deliveries = page.getByRole('region', { name: 'Webhook deliveries' });
  await deliveries.getByRole('cell', { name: /HTTP 204/ }).first().waitFor({ timeout: 15000 });
  check('its webhook delivery is logged with the receiver\'s answer', true);
  await shot(page, 'alerts-raised-desktop');
  await runAxe(page, 'alerts with an alert');
  await alertRow.getByRole('button', { name: 'Acknowledge' }).click();
  await eventually('an acknowledged alert says so', async () => (await page.getByRole('row').filter({ hasText: 'quota_5h' }).first().textContent()).includes('seen '));
  check('alert acknowledged', true);
  await nav(page, 'Audit log');
  await page.getByText('host.register').first().waitFor({ timeout: 15000 });
  check('audit log lists the host registration', true);

  // ---- My account (BYOK, sessions, password) and the per-user editor on Users.
  await accountSteps.run(steps(page));

  // ---- A member (created on the Users page) sees only their own pages.
  const member = `e2e-member-${stamp}`;
  const memberPassword = 'member password 1';
  await nav(page, 'Users');
  await page.getByLabel('Username').fill(member);
  await page.getByLabel('Password (at least 8 characters)').fill(memberPassword);
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByText(`Created ${member}.`).waitFor({ timeout: 15000 });
  check('admin creates a member on the Users page', true);
  const mctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const mp = await mctx.newPage();
  watch(mp, 'member');
  await mp.goto(`${base}/admin/login`);
  await mp.getByLabel('Username').fill(member);
  await mp.getByLabel('Password').fill(memberPassword);
  await mp.getByRole('button', { name: 'Sign in' }).click();
  await mp.waitForURL(/\/admin\/(#.*)?$/);
  await heading(mp, 'Overview');
  const links = await mp.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents();
  check('member nav shows only their pages', links.join('|') === 'Overview|Usage|Alerts|My tokens|My account|Memories|My Codex config', links.join('|'));
  await mp.getByRole('heading', { name: 'My usage' }).waitFor({ timeout: 15000 });
  check('member overview shows their own usage', true);
  await mp.goto(`${base}/admin/#/alerts`);
  await heading(mp, 'Alerts');
  await mp.getByText('No alerts').waitFor({ timeout: 15000 });
  check('member sees their alerts but not the webhook log', (await mp.getByRole('heading', { name: 'Webhook deliveries' }).count()) === 0);
  await mp.goto(`${base}/admin/#/hosts`);
  await heading(mp, 'Not here');
  check('member cannot open the hosts page', true);
  await shot(mp, 'member-overview-desktop');
  await mctx.close();

  // ---- Keyboard: a fresh load starts at the skip link; Tab reaches the nav; Enter follows it.
  await page.reload();
  await heading(page, 'Users');
  await page.keyboard.press('Tab');
  check('skip link is the first stop', (await page.evaluate(() => document.activeElement?.textContent)) === 'Skip to content');
  let reached = false;
  for (let i = 0; i < 12 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = (await page.evaluate(() => document.activeElement?.textContent)) === 'Usage';
  }
  check('Tab reaches the navigation', reached);
  await page.keyboard.press('Enter');
  await heading(page, 'Usage');
  await page.waitForTimeout(200);
  const focused = await page.evaluate(() => `${document.activeElement?.tagName}#${document.activeElement?.id} ${document.activeElement?.textContent?.slice(0, 40)}`);
  check('Enter on a nav link opens its page, focus on its heading', focused.startsWith('H1#page-title'), focused);

  // ---- Phone width, in dark mode: no horizontal scroll, the menu button opens the nav, axe
  // checks the dark colours' contrast.
  const phone = await browser.newContext({ viewport: { width: 360, height: 780 }, colorScheme: 'dark', storageState: await context.storageState() });
  const p = await phone.newPage();
  watch(p, 'phone');
  await p.goto(`${base}/admin/`);
  await heading(p, 'Overview');
  await p.getByTestId('hosts-total').waitFor({ timeout: 15000 });
  await settled(p);
  await shot(p, 'overview-phone');
  check('phone: nav is behind a menu button', !(await p.getByRole('navigation', { name: 'Main' }).isVisible()));
  for (const [link, title] of [['Overview', 'Overview'], ['Hosts', 'Hosts'], ['Usage', 'Usage'], ['My tokens', 'My tokens'], ['Kill switch & policy', 'Kill switch & policy'], ['Memories', 'Memories'], ['Audit log', 'Audit log'], ['Config builder', 'Config builder'], ['Canonical auth', 'Canonical auth'], ['Users', 'Users'], ['Providers', 'Providers'], ['Settings', 'Settings'], ['My Codex config', 'My Codex config'], ['My account', 'My account']]) {
    await nav(p, link, title);
    await fitsWidth(p, title);
  }
  await runAxe(p, 'overview at 360 px in dark mode');
  await nav(p, 'Config builder');
  await runAxe(p, 'config builder at 360 px in dark mode');
  await phone.close();

  // ---- Sign out through the header form; another open tab is sent to sign in on its next call.
  const other = await context.newPage();
  watch(other, 'second tab');
  await other.goto(`${base}/admin/`);
  await heading(other, 'Overview');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/admin\/login/);
  check('sign out returns to the sign-in page', true);
  await other.waitForURL(/\/admin\/login\?next=/, { timeout: 15000 });
  check('a signed-out tab goes to the sign-in page on its next refresh', true);

  check('no CSP violations or page errors', problems.length === 0, problems.join(' | '));
  await context.close();
} catch (e) {
  // A Playwright step that timed out or matched nothing: one FAIL line, exit 1.
  console.log(`FAIL ${String(e?.message ?? e).split('\n').slice(0, 3).join(' ')}`);
  await browser.close();
  process.exit(1);
} finally {
  await browser.close();
}
console.log('all ok');
