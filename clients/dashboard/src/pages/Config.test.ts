// @vitest-environment happy-dom
// The config builder's sub-views rendered against a stubbed ConfigService: routing and tabs,
// the diff view, inline field errors, restore, skills and prompt retire.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { create } from '@bufbuild/protobuf';
import { PrincipalSchema, Role } from '../gen/codexcentral/common/v1/common_pb';
import { ContentWriteStatus } from '../gen/codexcentral/config/v1/config_pb';
import { makeSession, SessionContext } from '../lib/session';
import { button, byLabel, invalidArgument, typeInto } from '../testing/dom';
import { parseHash } from '../lib/route';

const config = vi.hoisted(() => ({}) as Record<string, ReturnType<typeof vi.fn>>);
vi.mock('../lib/api', () => ({
  api: { config },
  errorMessage: (e: unknown) => (e instanceof Error ? ((e as { rawMessage?: string }).rawMessage ?? e.message) : String(e)),
}));

// Profiles.tsx has its own owner and tests; a stand-in shows where it is rendered.
vi.mock('./Profiles', () => ({ ProfilesCard: () => h('section', { 'data-testid': 'profiles-card' }, 'Profiles') }));

import { CONFIG_SECTIONS, ConfigPage, configSection } from './Config';

const doc = (version: number, extra: object = {}) => ({ version, sha256: `sha${version}`, sizeBytes: 10n, updatedBy: 'admin', note: '', ...extra });

beforeEach(() => {
  for (const k of Object.keys(config)) delete config[k];
  Object.assign(config, {
    getConfigTemplate: vi.fn(async () => ({ document: doc(3, { renderedToml: 'model = "c"\n' }) })),
    renderConfig: vi.fn(async () => ({ config: { content: '', sha256: '', sizeBytes: 0n, profiles: [] } })),
    listProfiles: vi.fn(async () => ({ profiles: [] })),
    listConfigVersions: vi.fn(async () => ({ versions: [doc(3), doc(2), doc(1)], nextPageToken: '' })),
    getConfigVersion: vi.fn(async ({ version }: { version: number }) => ({
      document: doc(version),
      profiles: [],
      files: [{ name: '', filename: 'config.toml', sha256: '', content: `model = "v${version}"\n` }],
    })),
    diffConfigVersions: vi.fn(async () => ({ diff: '--- v1/config.toml\n+++ v3/config.toml\n@@ -1 +1 @@\n-model = "a"\n+model = "c"\n' })),
    restoreConfigVersion: vi.fn(async () => ({ document: doc(4, { renderedToml: 'model = "a"\n', note: 'restored from version 1' }) })),
    getRequirements: vi.fn(async () => ({ document: doc(2, { content: 'allowed_sandbox_modes = ["read-only"]\n', requirements: { allowedApprovalPolicies: [], allowedSandboxModes: ['read-only'], allowedWebSearchModes: [], freeBlocks: [] } }) })),
    updateRequirements: vi.fn(),
    listRequirementsVersions: vi.fn(async () => ({ versions: [doc(2), doc(1)], nextPageToken: '' })),
    restoreRequirementsVersion: vi.fn(),
    getAgentsDocument: vi.fn(async () => ({ document: { ...doc(2), content: '# Rules\n' } })),
    saveAgentsDocument: vi.fn(),
    listAgentsDocumentVersions: vi.fn(async () => ({ versions: [doc(2), doc(1)], nextPageToken: '' })),
    listPrompts: vi.fn(async () => ({ prompts: [{ filename: 'review.md', description: 'Review', sha256: 'p' }] })),
    getPrompt: vi.fn(),
    savePrompt: vi.fn(),
    retirePrompt: vi.fn(async () => ({})),
    listSkills: vi.fn(async () => ({ skills: [{ slug: 'lint', displayName: 'Lint', description: 'Lints', sha256: 's' }] })),
    getSkill: vi.fn(),
    saveSkill: vi.fn(async () => ({ status: ContentWriteStatus.CREATED, skill: { slug: 'fmt', sha256: 'abcdef0123456789' } })),
    retireSkill: vi.fn(async () => ({})),
    listContentProposals: vi.fn(async () => ({ proposals: [], nextPageToken: '' })),
  });
  // happy-dom's <dialog> may lack showModal; the confirm dialog only needs it to open.
  const proto = HTMLDialogElement.prototype as unknown as { showModal?: () => void; close?: () => void };
  proto.showModal ??= function (this: HTMLDialogElement) {
    this.setAttribute('open', '');
  };
});

let root: HTMLElement | undefined;
const flush = () => act(() => new Promise<void>((r) => setTimeout(r, 0)));
async function mount(hash: string, role = Role.ADMIN) {
  const el = document.createElement('div');
  root = el;
  document.body.appendChild(el);
  const session = makeSession(create(PrincipalSchema, { role }), 'local', '', '');
  act(() => render(h(SessionContext.Provider, { value: session }, h(ConfigPage, { route: parseHash(hash) })), el));
  await flush();
  await flush();
  return el;
}
afterEach(() => {
  if (!root) return;
  const el = root;
  act(() => render(null, el));
  el.remove();
  root = undefined;
});

// Confirms the dialog that belongs to a ConfirmButton (the next <dialog> after it).
async function confirm(trigger: HTMLButtonElement) {
  act(() => trigger.click());
  const dialog = trigger.nextElementSibling as HTMLDialogElement;
  await act(async () => {
    dialog.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
  await flush();
}

describe('config sections', () => {
  it('knows its routes', () => {
    expect(CONFIG_SECTIONS.map((s) => s.key)).toEqual(['', 'history', 'requirements', 'content']);
    expect(configSection([])).toBe('');
    expect(configSection(['history'])).toBe('history');
    expect(configSection(['nope'])).toBeUndefined();
    expect(configSection(['history', 'x'])).toBeUndefined();
  });

  it('renders a tab bar with the active section and only that section', async () => {
    const el = await mount('#/config/history');
    const nav = el.querySelector('nav[aria-label="Config sections"]')!;
    const current = nav.querySelectorAll('a[aria-current="page"]');
    expect(current).toHaveLength(1);
    expect(current[0].textContent).toBe('Version history');
    expect(current[0].getAttribute('href')).toBe('#/config/history');
    expect(el.textContent).toContain('Config versions');
    expect(el.textContent).not.toContain('Preview: the baked config.toml');
  });

  it('keeps the template, preview and profiles on #/config', async () => {
    const el = await mount('#/config');
    expect(el.textContent).toContain('Preview: the baked config.toml');
    expect(el.querySelector('[data-testid=profiles-card]')).toBeTruthy();
    expect(byLabel(el, 'Model')).toBeTruthy();
  });

  it('says when a section does not exist', async () => {
    const el = await mount('#/config/bogus');
    expect(el.textContent).toContain('no such section');
  });
});

describe('version history', () => {
  it('lists versions, views one, diffs with marks and restores', async () => {
    const el = await mount('#/config/history');
    const rows = el.querySelectorAll('tbody tr');
    expect(rows).toHaveLength(3);
    expect(rows[0].textContent).toContain('current');

    act(() => button(el, 'View version 2').click());
    await flush();
    expect(config.getConfigVersion).toHaveBeenCalledWith({ version: 2 });
    expect(el.querySelector('[data-testid=config-version]')?.textContent).toContain('model = "v2"');

    act(() => button(el, 'Compare version 1 with the current one').click());
    await flush();
    await flush();
    expect(config.diffConfigVersions).toHaveBeenCalledWith({ fromVersion: 1, toVersion: 0 });
    const diff = el.querySelector('[data-testid=config-diff]')!;
    expect(diff.querySelector('del')?.textContent).toBe('Removed: − model = "a"');
    expect(diff.querySelector('ins')?.textContent).toBe('Added: + model = "c"');
    expect(diff.textContent).toContain('1 file changed: 1 line added, 1 removed');

    const restore = Array.from(rows[2].querySelectorAll('button')).find((b) => b.textContent === 'Restore')!;
    await confirm(restore);
    expect(config.restoreConfigVersion).toHaveBeenCalledWith({ version: 1, expectedSha256: 'sha3' });
    expect(el.querySelector('[data-testid=restore-result]')?.textContent).toContain('Restored version 1 as version 4.');
  });

  it('hides restore from read-only roles', async () => {
    const el = await mount('#/config/history', Role.READ_ONLY);
    expect(Array.from(el.querySelectorAll('button')).some((b) => b.textContent === 'Restore')).toBe(false);
    expect(button(el, 'View version 1')).toBeTruthy();
  });
});

describe('requirements', () => {
  it('saves with the lock and shows a field error beside the block it names', async () => {
    const err = invalidArgument('requirements.free_blocks.0.toml', 'line 1, column 5: expected `=`');
    config.updateRequirements.mockRejectedValueOnce(err);
    const el = await mount('#/config/requirements');
    expect(el.querySelector('[data-testid=requirements-content]')?.textContent).toContain('read-only');
    expect((byLabel(el, 'read-only') as HTMLInputElement).checked).toBe(true);

    act(() => byLabel(el, 'never').click());
    act(() => button(el, 'Add a TOML block').click());
    typeInto(byLabel(el, 'Block 1 name'), 'bad');
    typeInto(byLabel(el, 'Block 1 TOML'), 'oops');
    await act(async () => {
      el.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await flush();
    const sent = config.updateRequirements.mock.calls[0][0];
    expect(sent.expectedSha256).toBe('sha2');
    expect(sent.requirements.allowedApprovalPolicies).toEqual(['never']);
    expect(sent.requirements.freeBlocks).toMatchObject([{ name: 'bad', toml: 'oops' }]);
    const toml = byLabel(el, 'Block 1 TOML');
    expect(toml.getAttribute('aria-invalid')).toBe('true');
    const note = el.querySelector(`[id="${toml.getAttribute('aria-describedby')}"]`);
    expect(note?.textContent).toBe('line 1, column 5: expected `=`');
  });
});

describe('content', () => {
  it('retires a prompt, lists AGENTS.md versions and creates a skill', async () => {
    const el = await mount('#/config/content');
    expect(el.textContent).toContain('Saved versions of AGENTS.md');
    expect(el.querySelectorAll('details.versions tbody tr')).toHaveLength(2);

    const retire = Array.from(el.querySelectorAll('button')).find((b) => b.textContent === 'Retire' && b.closest('li')?.textContent?.includes('/review'))!;
    await confirm(retire);
    expect(config.retirePrompt).toHaveBeenCalledWith({ filename: 'review.md' });
    expect(el.textContent).toContain('Retired /review.');

    act(() => button(el, 'New skill').click());
    typeInto(byLabel(el, 'Skill folder (slug)'), 'fmt');
    act(() => button(el, 'Add a text file').click());
    typeInto(byLabel(el, 'File 1 path'), 'scripts/fmt.sh');
    typeInto(byLabel(el, 'File 1 content'), 'echo hi\n');
    await act(async () => {
      el.querySelector('form.skill-editor')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await flush();
    const sent = config.saveSkill.mock.calls[0][0];
    expect(sent.slug).toBe('fmt');
    expect(sent.manifest).toContain('name: my-skill');
    expect(sent.files[0].path).toBe('scripts/fmt.sh');
    expect(new TextDecoder().decode(sent.files[0].content)).toBe('echo hi\n');
    expect(sent.expectedSha256).toBe('');
    expect(el.textContent).toContain('Saved (first version). Skill fmt (sha256 abcdef012345).');

    const retireSkill = Array.from(el.querySelectorAll('button')).find((b) => b.textContent === 'Retire' && b.closest('li')?.textContent?.includes('lint'))!;
    await confirm(retireSkill);
    expect(config.retireSkill).toHaveBeenCalledWith({ slug: 'lint' });
  });
});
