// Browser steps for the profile editor (Config builder) and a host's config override (host
// page), against the real server: a profile is created (a bad name refused inline), edited (bad
// TOML refused inline, then a change that survives a reload) and renamed; a new host gets an
// override naming that profile as its default, seen in the live preview and after a reload;
// deleting the profile is refused while the host uses it; the override is removed (confirm),
// then the profile is deleted (confirm). Screenshots and axe on each new view.

/** @param {any} t the helpers of tests/clients/dashboard_check.mjs */
export async function run(t) {
  const { page, stamp, check, eventually, heading, gotoHash, shot, runAxe } = t;
  const name = `e2e-${stamp}`;
  const renamed = `${name}-renamed`;
  const model = `gpt-profile-${stamp}`;
  const profiles = page.getByRole('region', { name: 'Profiles', exact: true });
  const row = (n) => profiles.getByRole('row').filter({ has: page.getByRole('cell', { name: n, exact: true }) });

  // ---- Create: a bad name is refused next to its field, a good one is listed.
  await gotoHash(page, '#/config', 'Config builder');
  await profiles.getByRole('button', { name: 'New profile' }).click();
  const create = profiles.getByRole('group', { name: 'New profile' });
  await create.getByLabel('Profile name').fill('not a name!');
  await create.getByRole('button', { name: 'Create profile' }).click();
  const nameField = create.getByLabel('Profile name');
  await eventually('a bad profile name is flagged at its field', async () => (await nameField.getAttribute('aria-invalid')) === 'true');
  const nameError = await create.locator('.field-error').first().textContent();
  check('the server names what is wrong with the profile name', /A-Z, a-z, 0-9/.test(nameError), nameError);
  await nameField.fill(name);
  await create.getByLabel('Model', { exact: true }).fill(model);
  await create.getByLabel('Approval policy').selectOption('never');
  await create.getByRole('button', { name: 'Create profile' }).click();
  await row(name).waitFor({ timeout: 15000 });
  const created = await row(name).textContent();
  check('created profile is listed with its settings', created.includes(model) && created.includes('never'), created);

  // ---- Edit: bad TOML is refused inline; a real change is saved and survives a reload.
  const edit = profiles.getByRole('group', { name: `Edit profile ${name}` });
  await edit.waitFor({ timeout: 15000 });
  const extra = edit.getByLabel('Profile extra TOML (appended verbatim)');
  await extra.fill('this is = = not toml');
  await edit.getByRole('button', { name: 'Save profile' }).click();
  await eventually('bad profile TOML is flagged at its field', async () => (await extra.getAttribute('aria-invalid')) === 'true');
  const tomlError = await edit.locator('.field-error').first().textContent();
  check('the TOML error has a line and column', /line 1, column \d+/.test(tomlError), tomlError);
  await extra.fill('[tui]\nnotifications = true\n');
  await edit.getByLabel('Sandbox mode').selectOption('read-only');
  await edit.getByRole('button', { name: 'Save profile' }).click();
  await profiles.getByText(`Saved profile ${name}.`).waitFor({ timeout: 15000 });
  await eventually('the edit shows in the list', async () => (await row(name).textContent()).includes('read-only'));
  await page.reload();
  await heading(page, 'Config builder');
  await row(name).getByRole('button', { name: `Edit profile ${name}` }).click();
  await edit.waitFor({ timeout: 15000 });
  check('the edit is stored (sandbox mode)', (await edit.getByLabel('Sandbox mode').inputValue()) === 'read-only');
  check('the edit is stored (extra TOML)', (await extra.inputValue()).includes('notifications = true'));
  check('the edit is stored (model)', (await edit.getByLabel('Model', { exact: true }).inputValue()) === model);
  await shot(page, 'config-profile-editor-desktop');
  await runAxe(page, 'profile editor');

  // ---- Rename.
  await edit.getByLabel('Rename to').fill(renamed);
  await edit.getByRole('button', { name: 'Rename profile' }).click();
  await row(renamed).waitFor({ timeout: 15000 });
  await eventually('the old name leaves the list', async () => (await row(name).count()) === 0);
  await profiles.getByRole('group', { name: `Edit profile ${renamed}` }).waitFor();
  check('rename keeps the settings', (await row(renamed).textContent()).includes(model));

  // ---- A host to override: registered through the New host form.
  const fqdn = `override-${stamp}.example.test`;
  await gotoHash(page, '#/hosts/new', 'New host');
  await page.getByLabel('Host name (fqdn)').fill(fqdn);
  await page.getByRole('button', { name: 'Register host' }).click();
  const hostLink = page.getByRole('link', { name: fqdn });
  await hostLink.waitFor({ timeout: 15000 });
  const hostHash = new URL(await hostLink.getAttribute('href'), 'http://x/').hash;
  check('the new host has a detail link', /^#\/hosts\/\d+$/.test(hostHash), hostHash);
  await gotoHash(page, hostHash, fqdn);
  const card = page.getByRole('region', { name: 'Config override', exact: true });
  await card.getByTestId('override-state').waitFor({ timeout: 15000 });
  check('a new host has no override', (await card.getByTestId('override-state').textContent()).includes('No override'));

  // The preview needs a saved fleet template; save the current one if there is none yet.
  const preview = card.getByTestId('host-config-preview');
  const noTemplate = card.getByText('No fleet config.toml template is saved yet');
  await eventually('the host preview or its empty state shows', async () => (await preview.count()) + (await noTemplate.count()) > 0);
  if ((await noTemplate.count()) > 0) {
    await gotoHash(page, '#/config', 'Config builder');
    await page.getByTestId('config-preview').waitFor({ timeout: 15000 });
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText(/Saved|Nothing changed/).first().waitFor({ timeout: 15000 });
    await gotoHash(page, hostHash, fqdn);
    await preview.waitFor({ timeout: 15000 });
  }
  check('the host preview shows a config.toml', (await preview.textContent()).length > 0);

  // ---- Set: bad TOML is flagged at its field (as typed, and by the save), then a real override.
  const hostExtra = card.getByLabel('Extra config.toml for this host');
  await hostExtra.fill('this is = = not toml');
  // The server's preview (RenderConfig with the draft) flags it before anything is saved.
  await card.getByTestId('host-preview-error').filter({ hasText: /line 1, column \d+/ }).waitFor({ timeout: 15000 });
  check('the live preview flags bad override TOML as typed', (await hostExtra.getAttribute('aria-invalid')) === 'true');
  await card.getByRole('button', { name: 'Set override' }).click();
  await card.getByRole('alert').filter({ hasText: /line 1, column \d+/ }).first().waitFor({ timeout: 15000 });
  check('bad override TOML is flagged at its field', (await hostExtra.getAttribute('aria-invalid')) === 'true');
  const marker = `# e2e override ${stamp}`;
  await hostExtra.fill(`${marker}\n[tui]\nnotifications = false\n`);
  await eventually('the live preview shows the unsaved override', async () => {
    const text = await preview.textContent();
    return text.includes(marker) && text.includes('notifications = false');
  });
  check('the live preview says it has unsaved changes', (await card.textContent()).includes('with your unsaved changes'));
  await card.getByLabel('Default profile').selectOption(renamed);
  await card.getByRole('button', { name: 'Set override' }).click();
  await card.getByText('Override set.').waitFor({ timeout: 15000 });
  await eventually('the preview shows the saved override', async () => (await card.textContent()).includes('as saved') && (await preview.textContent()).includes(marker));
  check('the preview names the host default profile', (await card.textContent()).includes(`Default profile: ${renamed}`));
  await page.reload();
  await heading(page, fqdn);
  await card.getByTestId('override-state').waitFor({ timeout: 15000 });
  check('the override is stored', (await card.getByTestId('override-state').textContent()).includes('has an override'));
  check('the stored override keeps its TOML', (await hostExtra.inputValue()).includes(marker));
  check('the stored override keeps its default profile', (await card.getByLabel('Default profile').inputValue()) === renamed);
  await preview.waitFor({ timeout: 15000 });
  await shot(page, 'host-override-desktop');
  await runAxe(page, 'host config override');

  // ---- The profile cannot go while the host uses it as its default.
  await gotoHash(page, '#/config', 'Config builder');
  await row(renamed).waitFor({ timeout: 15000 });
  await row(renamed).getByRole('button', { name: 'Delete', exact: true }).click();
  await runAxe(page, 'delete profile dialog');
  await page.getByRole('dialog').getByRole('button', { name: 'Delete profile' }).click();
  await profiles.getByRole('alert').filter({ hasText: `default profile of host` }).waitFor({ timeout: 15000 });
  check('deleting a profile a host uses is refused with the reason', (await row(renamed).count()) === 1);

  // ---- Remove the override (confirm); the preview goes back to the fleet file.
  await gotoHash(page, hostHash, fqdn);
  await card.getByTestId('override-state').waitFor({ timeout: 15000 });
  await card.getByRole('button', { name: 'Remove override' }).click();
  await runAxe(page, 'remove override dialog');
  await page.getByRole('dialog').getByRole('button', { name: 'Remove override' }).click();
  await card.getByText('Override removed.').waitFor({ timeout: 15000 });
  check('the host has no override again', (await card.getByTestId('override-state').textContent()).includes('No override'));
  check('the override form is empty again', (await hostExtra.inputValue()) === '');
  await eventually('the preview drops the override', async () => !(await preview.textContent()).includes(marker));
  await page.reload();
  await heading(page, fqdn);
  await card.getByTestId('override-state').waitFor({ timeout: 15000 });
  check('the removal is stored', (await card.getByTestId('override-state').textContent()).includes('No override'));

  // ---- Now the profile deletes (confirm) and leaves the list.
  await gotoHash(page, '#/config', 'Config builder');
  await row(renamed).waitFor({ timeout: 15000 });
  await row(renamed).getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete profile' }).click();
  await profiles.getByText(`Deleted profile ${renamed}.`).waitFor({ timeout: 15000 });
  await eventually('the deleted profile leaves the list', async () => (await row(renamed).count()) === 0);
  await shot(page, 'config-profiles-desktop');
  await runAxe(page, 'profiles');
}
