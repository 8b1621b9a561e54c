// Dashboard steps for My account (#/account) and the admin's per-user editor on Users: a BYOK
// key saved (listed masked, never echoed) and deleted, the sessions list with this browser
// marked, the password changed and changed back (each proven by a fresh sign-in), then a
// throwaway member created, its password reset (the generated one shown once and proven by
// signing in as the member, who sees their own account page), its display name edited and
// seen in the table, and the member deleted. Screenshots and axe on each new view.
//
// `t` as dashboard_check.mjs passes it, plus `t.user` / `t.password`: the signed-in admin's
// local credentials (auth mode on).

/** Signs in through the server's page in a fresh browser context; returns it open. */
async function signInFresh(t, username, password) {
  const ctx = await t.page.context().browser().newContext({ viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  await p.goto(`${t.base}/admin/login`);
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  const ok = await p
    .waitForURL(/\/admin\/(#.*)?$/, { timeout: 15000 })
    .then(() => true)
    .catch(() => false);
  return { ctx, p, ok };
}

/** Ends a fresh context's session (so the admin's session list stays small) and closes it. */
async function signOutFresh({ ctx, p }) {
  const out = p.getByRole('button', { name: 'Sign out' });
  if (await out.isVisible().catch(() => false)) {
    await out.click();
    await p.waitForURL(/\/admin\/login/, { timeout: 15000 }).catch(() => {});
  }
  await ctx.close();
}

export async function run(t) {
  const { page, check, eventually } = t;
  const main = page.locator('main');

  // ---- My account: in the main navigation, opens on its hash route.
  const navLink = page.getByRole('navigation', { name: 'Main' }).locator('a[href="#/account"]');
  check('nav has the SPA My account link', (await navLink.count()) === 1 && (await navLink.textContent()).trim() === 'My account');
  await t.gotoHash(page, '#/account', 'My account');
  for (const h of ['Profile', 'Change password', 'Your upstream keys (BYOK)', 'Sessions', 'Linked sign-in accounts']) {
    await page.getByRole('heading', { level: 2, name: h, exact: true }).waitFor({ timeout: 15000 });
  }
  check('account page shows profile, password, keys, sessions and linked logins', true);
  check('profile names the signed-in user', (await main.textContent()).includes(t.user));
  await page.getByRole('button', { name: 'Save display name' }).waitFor({ timeout: 15000 });
  check('an admin may edit their own display name', true);

  // ---- BYOK: save a key, see it listed masked (never the secret), delete it.
  const providerField = page.getByLabel('Provider', { exact: true });
  let provider = 'openai';
  if ((await providerField.evaluate((el) => el.tagName)) === 'SELECT') {
    const values = (await providerField.locator('option').evaluateAll((os) => os.map((o) => o.value))).filter(Boolean);
    check('BYOK lists upstream providers to choose from', values.length > 0, values.join(','));
    provider = values.includes('openai') ? 'openai' : values[0];
    await providerField.selectOption(provider);
  } else {
    await providerField.fill(provider);
  }
  const tail = t.stamp.slice(-4).padStart(4, 'k');
  const key = `sk-e2e-${t.stamp}-notshownagain-${tail}`;
  await page.getByLabel('API key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Save key' }).click();
  await page.getByText(`Key saved for ${provider}`).waitFor({ timeout: 15000 });
  const keys = page.getByRole('table', { name: 'Your upstream keys' });
  const keyRow = keys.getByRole('row').filter({ hasText: provider });
  await eventually('BYOK key listed with its masked suffix', async () => (await keyRow.textContent()).includes(`…${tail}`));
  check('BYOK key input is cleared after saving', (await page.getByLabel('API key', { exact: true }).inputValue()) === '');
  check('BYOK secret is not on the page', !(await page.content()).includes(key));
  await t.shot(page, 'account-desktop');
  await t.runAxe(page, 'my account');

  await t.fitsPhone(page, 'My account', () => t.shot(page, 'account-phone'));

  await keyRow.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete key' }).click();
  await page.getByText(`Deleted your ${provider} key.`).waitFor({ timeout: 15000 });
  await eventually('BYOK key gone from the list', async () => (await keys.getByRole('row').filter({ hasText: provider }).count()) === 0);

  // ---- Sessions: this browser is listed and marked (not revoked: the run goes on with it).
  const current = page.getByTestId('current-session');
  await current.waitFor({ timeout: 15000 });
  const badge = await current.textContent();
  check('sessions list marks this browser (the server says which)', /this browser/.test(badge), badge);
  check('current session offers revoke behind a confirmation', await current.getByRole('button', { name: 'Revoke' }).isVisible());

  // ---- Linked logins: link the GitHub-shaped provider the test server has (the provider
  // confirms and sends the browser back to this page), see it listed, unlink it.
  const linked = page.getByRole('region', { name: 'Linked sign-in accounts' });
  await linked.getByRole('button', { name: 'Link GitHub Enterprise' }).click();
  await page.waitForURL(/\/admin\/#\/account$/, { timeout: 15000 });
  await t.heading(page, 'My account');
  const ghRow = linked.getByRole('row').filter({ hasText: 'Octo-Cat7001' });
  await ghRow.waitFor({ timeout: 15000 });
  check('a provider linked from the dashboard is listed on return', true);
  await ghRow.getByRole('button', { name: 'Unlink' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Unlink account' }).click();
  await eventually('the unlinked account leaves the list', async () => (await ghRow.count()) === 0);

  // ---- Password: the client-side checks, the server's refusal, then change and change back.
  const temp = `e2e temp ${t.stamp} pw`;
  const pw = {
    current: page.getByLabel('Current password', { exact: true }),
    next: page.getByLabel('New password', { exact: true }),
    confirm: page.getByLabel('Confirm new password', { exact: true }),
    submit: page.getByRole('button', { name: 'Change password' }),
  };
  await pw.current.fill(t.password);
  await pw.next.fill(temp);
  await pw.confirm.fill(`${temp}x`);
  await pw.submit.click();
  await page.getByText('The two new passwords differ.').waitFor({ timeout: 15000 });
  check('password form refuses a confirmation that differs', true);
  await pw.current.fill('not-the-password-1');
  await pw.confirm.fill(temp);
  await pw.submit.click();
  await page.getByText('current_password is not correct').waitFor({ timeout: 15000 });
  check('password form shows the server refusing a wrong current password', true);

  await pw.current.fill(t.password);
  await pw.submit.click();
  await page.getByText('Password changed.', { exact: false }).waitFor({ timeout: 15000 });
  check('password fields are cleared after the change', (await pw.current.inputValue()) === '' && (await pw.next.inputValue()) === '');
  let fresh = await signInFresh(t, t.user, temp);
  check('the changed password signs in', fresh.ok, fresh.p.url());
  await signOutFresh(fresh);

  await pw.current.fill(temp);
  await pw.next.fill(t.password);
  await pw.confirm.fill(t.password);
  await pw.submit.click();
  await eventually('password changed back', async () => (await pw.current.inputValue()) === '' && (await page.getByText('Password changed.', { exact: false }).isVisible()));
  fresh = await signInFresh(t, t.user, t.password);
  check('the original password signs in again', fresh.ok, fresh.p.url());
  await signOutFresh(fresh);

  // ---- Users: a throwaway member; reset its password, edit its display name, delete it.
  const member = `e2e-acct-${t.stamp}`.toLowerCase();
  await t.nav(page, 'Users');
  await page.getByLabel('Username').fill(member);
  await page.getByLabel('Password (at least 8 characters)').fill('first password 1');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByText(`Created ${member}.`).waitFor({ timeout: 15000 });
  await page.getByLabel('Search users').fill(member);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const row = page.getByRole('row').filter({ hasText: member });
  await row.waitFor({ timeout: 15000 });
  await row.getByRole('button', { name: `Edit ${member}` }).click();
  await page.getByRole('heading', { level: 2, name: `Edit ${member}` }).waitFor({ timeout: 15000 });
  check('Edit opens the user editor', true);

  await page.getByRole('button', { name: 'Generate one' }).click();
  await page.getByRole('button', { name: 'Reset password', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Reset the password' }).click();
  await page.getByText(`Password of ${member} reset`).waitFor({ timeout: 15000 });
  const generated = (await page.getByTestId('reset-password').textContent()).trim();
  check('reset shows the generated password once', generated.length === 16, generated.length);
  check('password field is cleared after the reset', (await page.getByLabel(`New password for ${member}`).inputValue()) === '');
  await page.getByRole('button', { name: 'Done, hide it' }).click();
  check('the temporary password can be hidden for good', (await page.getByTestId('reset-password').count()) === 0);

  const name = `E2E Person ${t.stamp}`;
  await page.getByLabel('New display name', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Save display name' }).click();
  await page.getByText(`Display name of ${member} saved.`).waitFor({ timeout: 15000 });
  await eventually('users table shows the new display name', async () => (await row.textContent()).includes(name));
  await t.shot(page, 'users-edit-desktop');
  await t.runAxe(page, 'users with the editor open');

  // The reset password works; the member sees their own account page and renames themselves.
  fresh = await signInFresh(t, member, generated);
  check('member signs in with the reset password', fresh.ok, fresh.p.url());
  if (fresh.ok) {
    await fresh.p.goto(`${t.base}/admin/#/account`);
    await t.heading(fresh.p, 'My account');
    const own = fresh.p.getByLabel('Display name');
    await own.waitFor({ timeout: 15000 });
    await own.fill(`Member ${t.stamp}`);
    await fresh.p.getByRole('button', { name: 'Save display name' }).click();
    await fresh.p.getByText('Display name saved.').waitFor({ timeout: 15000 });
    check('member renames themselves', (await own.inputValue()) === `Member ${t.stamp}`);
    await fresh.p.getByTestId('current-session').waitFor({ timeout: 15000 });
    await t.settled(fresh.p);
    check('member sees their account with this session marked', true);
    await t.shot(fresh.p, 'account-member-desktop');
    await t.runAxe(fresh.p, 'my account as a member');
  }
  await signOutFresh(fresh);

  await row.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete user' }).click();
  await eventually('throwaway member deleted', async () => (await page.getByRole('row').filter({ hasText: member }).count()) === 0);
}
