// Browser steps for the config builder's sub-views, against the real server: the section tabs;
// version history (two template saves, view one, a marked diff from a row and from the compare
// form, restore the older one and see it back in the template); requirements.toml (a bad TOML
// block refused next to its field, a save seen in the saved file, a second save, restore the
// first, then clean up); AGENTS.md (save, the new version listed); prompts (create, edit,
// retire); skills (bad SKILL.md refused inline, create with a text and a binary file, edit,
// retire, seen among retired ones). Screenshots, axe and a 360 px check on each new view.

/** @param {any} t the helpers of tests/clients/dashboard_check.mjs */
export async function run(t) {
  const { page, stamp, check, eventually, gotoHash, shot, runAxe } = t;
  const tabs = page.getByRole('navigation', { name: 'Config sections' });
  const region = (name) => page.getByRole('region', { name, exact: true });
  const dialog = (name) => page.getByRole('dialog', { name });
  const versionOf = async (locator) => {
    const text = await locator.textContent({ timeout: 15000 });
    const m = /Version (\d+)/.exec(text ?? '');
    check('a save names its version', !!m, text);
    return Number(m[1]);
  };

  // ---- Tabs, and two template saves to have a history.
  await gotoHash(page, '#/config', 'Config builder');
  check('config tabs mark the template as current', (await tabs.locator('[aria-current="page"]').textContent()) === 'Template & profiles');
  const template = region('Fleet config.toml');
  const preview = page.getByTestId('config-preview');
  const saved = template.getByText(/^(Saved|Saved \(first version\))\. Version \d+\.$/);
  const saveModel = async (model, before) => {
    await template.getByLabel('Model', { exact: true }).fill(model);
    await eventually(`preview shows ${model}`, async () => (await preview.textContent()).includes(model));
    await template.getByRole('button', { name: 'Save template' }).click();
    // The previous save's notice stays until this one answers: wait for a new version.
    await eventually(`template with ${model} saved`, async () => (await saved.count()) === 1 && !(await saved.textContent()).endsWith(` ${before}.`));
    return versionOf(saved);
  };
  const modelA = `gpt-hist-a-${stamp}`;
  const modelB = `gpt-hist-b-${stamp}`;
  const vA = await saveModel(modelA, -1);
  const vB = await saveModel(modelB, vA);
  check('each template save makes a version', vB === vA + 1, `${vA} → ${vB}`);

  // ---- History: the tab link, the list, one version, diffs, restore.
  await tabs.getByRole('link', { name: 'Version history' }).click();
  const versions = region('Config versions');
  const vrow = (v) => versions.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(`^v${v}\\b`) }) });
  await vrow(vB).waitFor({ timeout: 15000 });
  check('the history tab is current', (await tabs.locator('[aria-current="page"]').textContent()) === 'Version history');
  check('the newest version is marked current', (await vrow(vB).textContent()).includes('current'));
  await versions.getByRole('button', { name: `View version ${vA}`, exact: true }).click();
  const viewed = page.getByTestId('config-version');
  await eventually('a version shows its baked config.toml', async () => (await viewed.textContent()).includes(modelA));
  await region(`Version ${vA}`).getByRole('button', { name: 'Close' }).click();

  await versions.getByRole('button', { name: `Compare version ${vA} with the current one` }).click();
  const diff = page.getByTestId('config-diff');
  await eventually('the diff shows removed and added lines', async () => {
    const del = await diff.locator('del').allTextContents();
    const ins = await diff.locator('ins').allTextContents();
    return del.some((l) => l.includes(modelA)) && ins.some((l) => l.includes(modelB));
  });
  const added = (await diff.locator('ins').filter({ hasText: modelB }).first().textContent()) ?? '';
  check('added lines are marked by more than colour', added.startsWith('Added: +'), added);
  const compare = region('Compare versions');
  await compare.getByLabel('From version').fill(String(vB));
  await compare.getByLabel('To version').fill(String(vA));
  await compare.getByRole('button', { name: 'Show diff' }).click();
  await eventually('the compare form diffs two chosen versions', async () =>
    (await diff.locator('del').filter({ hasText: modelB }).count()) > 0 && (await diff.locator('ins').filter({ hasText: modelA }).count()) > 0);
  await shot(page, 'config-history-desktop');
  await runAxe(page, 'config history');
  await t.fitsPhone(page, 'config history');

  await vrow(vA).getByRole('button', { name: 'Restore', exact: true }).click();
  await dialog(`Restore version ${vA}?`).getByRole('button', { name: 'Restore' }).click();
  const result = page.getByTestId('restore-result');
  await result.waitFor({ timeout: 15000 });
  const said = await result.textContent();
  check('restore says which version it made', said.includes(`Restored version ${vA} as version ${vB + 1}.`), said);
  await vrow(vB + 1).waitFor({ timeout: 15000 });
  check('the restored version is listed as current', (await vrow(vB + 1).textContent()).includes(`restored from version ${vA}`));
  await gotoHash(page, '#/config', 'Config builder');
  await eventually('the template is back to the restored model', async () => (await template.getByLabel('Model', { exact: true }).inputValue()) === modelA);

  // ---- Requirements: a bad block is refused at its field; save, save again, restore.
  await gotoHash(page, '#/config/requirements', 'Config builder');
  const req = region('Fleet requirements.toml');
  await req.getByRole('button', { name: 'Save requirements' }).waitFor({ timeout: 15000 });
  const never = req.getByRole('group', { name: 'Allowed approval policies' }).getByLabel('never', { exact: true });
  if (await never.isChecked()) await never.uncheck();
  await never.check();
  const blocksBefore = await req.getByRole('group', { name: /^Block \d+$/ }).count();
  const n = blocksBefore + 1;
  await req.getByRole('button', { name: 'Add a TOML block' }).click();
  await req.getByLabel(`Block ${n} name`, { exact: true }).fill(`e2e-${stamp}`);
  const blockToml = req.getByLabel(`Block ${n} TOML`, { exact: true });
  await blockToml.fill('this is = = not toml');
  await req.getByRole('button', { name: 'Save requirements' }).click();
  await eventually('a bad requirements block is flagged at its field', async () => (await blockToml.getAttribute('aria-invalid')) === 'true');
  const blockError = await page.locator(`[id="${await blockToml.getAttribute('aria-describedby')}"]`).textContent();
  check('the requirements error has a line and column', /line \d+, column \d+/.test(blockError), blockError);
  await blockToml.fill(`# e2e ${stamp}\n[features]\nshell_tool = true\n`);
  await req.getByRole('button', { name: 'Save requirements' }).click();
  const reqSaved = req.getByText(/^(Saved|Saved \(first version\))\. Version \d+\.$/);
  await reqSaved.waitFor({ timeout: 15000 });
  const r1 = await versionOf(reqSaved);
  const content = page.getByTestId('requirements-content');
  await eventually('the saved requirements.toml has the change', async () => {
    const text = await content.textContent();
    return text.includes(`e2e ${stamp}`) && /allowed_approval_policies = \[[^\]]*"never"/.test(text);
  });
  await req.getByRole('group', { name: 'Allowed approval policies' }).getByLabel('never', { exact: true }).uncheck();
  await req.getByRole('button', { name: 'Save requirements' }).click();
  await eventually('a second requirements save makes a version', async () => (await req.getByText(`Saved. Version ${r1 + 1}.`).count()) === 1);
  check('the second save dropped "never"', !(await content.textContent()).includes('"never"'));
  const reqVersions = region('Requirements versions');
  const rrow = (v) => reqVersions.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(`^v${v}\\b`) }) });
  await rrow(r1 + 1).waitFor({ timeout: 15000 });
  await shot(page, 'config-requirements-desktop');
  await runAxe(page, 'config requirements');
  await t.fitsPhone(page, 'config requirements');
  await rrow(r1).getByRole('button', { name: 'Restore', exact: true }).click();
  await dialog(`Restore requirements version ${r1}?`).getByRole('button', { name: 'Restore' }).click();
  await reqVersions.getByText(`Restored version ${r1} as version ${r1 + 2}.`).waitFor({ timeout: 15000 });
  await eventually('the restored requirements are in force', async () => (await content.textContent()).includes('"never"'));
  check('the editor shows the restored choice', await req.getByRole('group', { name: 'Allowed approval policies' }).getByLabel('never', { exact: true }).isChecked());
  // Clean up: the block and "never" go again.
  await req.getByRole('button', { name: `Remove block ${n}` }).click();
  await req.getByRole('group', { name: 'Allowed approval policies' }).getByLabel('never', { exact: true }).uncheck();
  await req.getByRole('button', { name: 'Save requirements' }).click();
  await eventually('the requirements are clean again', async () => !(await region('Saved requirements.toml').textContent()).includes(`e2e ${stamp}`));

  // ---- AGENTS.md: save, the version is listed.
  await gotoHash(page, '#/config/content', 'Config builder');
  const agents = region('AGENTS.md');
  await agents.getByLabel('AGENTS.md content (Markdown)').fill(`# Fleet rules ${stamp}\n\nBe kind.\n`);
  await agents.getByRole('button', { name: 'Save AGENTS.md' }).click();
  const agentsSaved = agents.getByText(/^(Saved|Saved \(first version\))\. Version \d+\.$/);
  await agentsSaved.waitFor({ timeout: 15000 });
  const a1 = await versionOf(agentsSaved);
  await agents.getByText('Saved versions of AGENTS.md').click();
  const arow = agents.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(`^v${a1}\\b`) }) });
  await arow.waitFor({ timeout: 15000 });
  check('the new AGENTS.md version is listed as current', (await arow.textContent()).includes('current'));

  // ---- Prompts: create, edit, retire.
  const prompts = region('Slash-command prompts');
  const promptName = `e2e-${stamp}`;
  const promptItem = () => prompts.getByRole('listitem').filter({ has: page.getByRole('button', { name: `/${promptName}`, exact: true }) });
  await prompts.getByRole('button', { name: 'New prompt' }).click();
  await prompts.getByLabel('File name').fill(`${promptName}.md`);
  await prompts.getByLabel('Description', { exact: true }).fill('first description');
  await prompts.getByLabel('Prompt body (Markdown)').fill(`Review the diff (${stamp}).`);
  await prompts.getByRole('button', { name: 'Save prompt' }).click();
  await promptItem().waitFor({ timeout: 15000 });
  check('the new prompt is listed with its description', (await promptItem().textContent()).includes('first description'));
  await promptItem().getByRole('button', { name: `/${promptName}`, exact: true }).click();
  await eventually('the prompt opens with its body', async () => (await prompts.getByLabel('Prompt body (Markdown)').inputValue()).includes(stamp));
  await prompts.getByLabel('Description', { exact: true }).fill('second description');
  await prompts.getByRole('button', { name: 'Save prompt' }).click();
  await eventually('the prompt edit shows in the list', async () => (await promptItem().textContent()).includes('second description'));
  await promptItem().getByRole('button', { name: 'Retire' }).click();
  await dialog(`Retire /${promptName}?`).getByRole('button', { name: 'Retire prompt' }).click();
  await eventually('the retired prompt leaves the list', async () => (await promptItem().count()) === 0);
  await prompts.getByText(`Retired /${promptName}.`).waitFor({ timeout: 15000 });

  // ---- Skills: refused without front matter; create with files; edit; retire.
  const skills = region('Skills');
  const slug = `e2e-skill-${stamp}`;
  const skillItem = () => skills.getByRole('listitem').filter({ hasText: slug });
  await skills.getByRole('button', { name: 'New skill' }).click();
  const editor = skills.getByRole('form', { name: 'New skill' });
  await editor.getByLabel('Skill folder (slug)').fill(slug);
  const manifest = editor.getByLabel('SKILL.md (Markdown with front matter)');
  await manifest.fill('no front matter here');
  await editor.getByRole('button', { name: 'Save skill' }).click();
  await eventually('a SKILL.md without front matter is flagged at its field', async () => (await manifest.getAttribute('aria-invalid')) === 'true');
  await manifest.fill(`---\nname: ${slug}\ndescription: Says hello (${stamp}).\n---\n\nRun scripts/hello.sh.\n`);
  await editor.getByRole('button', { name: 'Add a text file' }).click();
  await editor.getByLabel('File 1 path').fill('scripts/hello.sh');
  await editor.getByLabel('File 1 content').fill('echo hello\n');
  await editor.getByLabel('Upload files').setInputFiles({ name: 'logo.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([0x89, 0x50, 0x00, 0xff, 0x01]) });
  await editor.getByText('Binary file, 5 B: kept as it is.').waitFor({ timeout: 15000 });
  await shot(page, 'config-content-desktop');
  await runAxe(page, 'config content (skill editor)');
  await t.fitsPhone(page, 'config content');
  await editor.getByRole('button', { name: 'Save skill' }).click();
  await skills.getByText(new RegExp(`^Saved \\(first version\\)\\. Skill ${slug} \\(sha256 [0-9a-f]{12}\\)\\.$`)).waitFor({ timeout: 15000 });
  await skillItem().waitFor({ timeout: 15000 });
  check('the new skill is listed with its description', (await skillItem().textContent()).includes(`Says hello (${stamp}).`));

  await skills.getByRole('button', { name: `Open skill ${slug}` }).click();
  const edit = skills.getByRole('form', { name: `Skill ${slug}` });
  await edit.waitFor({ timeout: 15000 });
  const paths = [await edit.getByLabel('File 1 path').inputValue(), await edit.getByLabel('File 2 path').inputValue()];
  check('the skill keeps both files', paths.join(',') === 'logo.bin,scripts/hello.sh', paths.join(','));
  check('the binary file stays binary', (await edit.getByText('Binary file, 5 B: kept as it is.').count()) === 1);
  await edit.getByLabel('File 2 content').fill('echo hello again\n');
  await edit.getByRole('button', { name: 'Save skill' }).click();
  await skills.getByText(new RegExp(`^Saved\\. Skill ${slug} `)).waitFor({ timeout: 15000 });
  await skills.getByRole('button', { name: `Open skill ${slug}` }).click();
  await eventually('the skill edit is stored', async () => (await edit.getByLabel('File 2 content').inputValue()) === 'echo hello again\n');
  await edit.getByRole('button', { name: 'Cancel' }).click();

  await skillItem().getByRole('button', { name: 'Retire' }).click();
  await dialog(`Retire skill ${slug}?`).getByRole('button', { name: 'Retire skill' }).click();
  await skills.getByText(`Retired skill ${slug}.`).waitFor({ timeout: 15000 });
  await eventually('the retired skill leaves the list', async () => (await skillItem().count()) === 0);
  await skills.getByRole('switch', { name: 'Show retired skills' }).check();
  await eventually('the retired skill is shown among retired ones', async () => (await skillItem().count()) === 1 && (await skillItem().textContent()).includes('retired'));
  await skills.getByRole('switch', { name: 'Show retired skills' }).uncheck();
}
