// @vitest-environment happy-dom
// The profile editor's helpers, and the card against a stubbed ConfigService: create with a
// field error from the server, edit with the updated_at lock, rename, delete.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { PrincipalSchema, Role } from '../gen/codexcentral/common/v1/common_pb';
import { ProfileSchema, type Profile } from '../gen/codexcentral/config/v1/config_pb';
import { makeSession, SessionContext } from '../lib/session';
import { button, byLabel, invalidArgument, typeInto } from '../testing/dom';

const config = vi.hoisted(() => ({}) as Record<string, ReturnType<typeof vi.fn>>);
vi.mock('../lib/api', () => ({
  api: { config },
  errorMessage: (e: unknown) => (e instanceof Error ? ((e as { rawMessage?: string }).rawMessage ?? e.message) : String(e)),
}));

import { CheckedField } from '../components/ui';
import { EMPTY_PROFILE, ProfilesCard, changedSince, profileErrors, profileForm, profileInput, sameProfile } from './Profiles';

describe('profile editor logic', () => {
  const p = create(ProfileSchema, {
    name: 'fast',
    model: 'gpt-5.1-codex-mini',
    approvalPolicy: 'never',
    extraToml: '[tui]\nnotifications = true\n',
    updatedAt: { seconds: 100n, nanos: 5 },
  });

  it('takes the editable fields of a profile, nothing else', () => {
    const f = profileForm(p);
    expect(f).toEqual({ ...EMPTY_PROFILE, name: 'fast', model: 'gpt-5.1-codex-mini', approvalPolicy: 'never', extraToml: '[tui]\nnotifications = true\n' });
    expect(Object.keys(f)).not.toContain('updatedAt');
  });

  it('trims one-line fields but sends TOML verbatim', () => {
    const f = profileInput({ ...EMPTY_PROFILE, name: ' fast ', model: ' gpt ', extraToml: '  x = 1\n' });
    expect(f).toMatchObject({ name: 'fast', model: 'gpt', extraToml: '  x = 1\n' });
  });

  it('sees no change in whitespace around one-line fields', () => {
    const f = profileForm(p);
    expect(sameProfile(f, { ...f, model: ' gpt-5.1-codex-mini ' })).toBe(true);
    expect(sameProfile(f, { ...f, sandboxMode: 'read-only' })).toBe(false);
    expect(sameProfile(f, { ...f, extraToml: `${f.extraToml}\n` })).toBe(false);
  });

  it('detects a change by updated_at (the proto has no version field)', () => {
    expect(changedSince(p.updatedAt, { ...p.updatedAt!, nanos: 5 })).toBe(false);
    expect(changedSince(p.updatedAt, { ...p.updatedAt!, nanos: 6 })).toBe(true);
    expect(changedSince(undefined, undefined)).toBe(false);
    expect(changedSince(undefined, p.updatedAt)).toBe(true);
  });

  it('puts server violations on the form and rename fields', () => {
    expect(
      profileErrors([
        { field: 'profile.name', description: 'profile.name must be 1 to 64 characters' },
        { field: 'profile.extra_toml', description: 'line 1, column 3: bad' },
        { field: 'new_name', description: '"config" is reserved' },
      ]),
    ).toMatchObject({ name: 'profile.name must be 1 to 64 characters', extraToml: 'line 1, column 3: bad', newName: '"config" is reserved' });
  });
});

describe('CheckedField', () => {
  let root: HTMLElement;
  afterEach(() => {
    act(() => render(null, root));
    root.remove();
  });

  it('labels its control and ties the server error to it', () => {
    root = document.createElement('div');
    document.body.appendChild(root);
    const field = (error?: string) =>
      h(CheckedField, { label: 'Model', error, children: (id: string, a11y: object) => h('input', { id, type: 'text', ...a11y }) });
    act(() => render(field(), root));
    const input = root.querySelector('input')!;
    expect(root.querySelector('label')!.getAttribute('for')).toBe(input.id);
    expect(input.getAttribute('aria-invalid')).toBeNull();

    act(() => render(field('too long'), root));
    const err = root.querySelector('.field-error')!;
    expect(err.textContent).toBe('too long');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toBe(err.id);
  });
});

describe('ProfilesCard', () => {
  let store: Profile[];
  const at = (s: number) => timestampFromMs(s * 1000);
  beforeEach(() => {
    store = [create(ProfileSchema, { name: 'fast', model: 'gpt-mini', approvalPolicy: 'never', updatedAt: at(100) })];
    for (const k of Object.keys(config)) delete config[k];
    Object.assign(config, {
      listProfiles: vi.fn(async () => ({ profiles: [...store] })),
      getConfigSettings: vi.fn(async () => ({ settings: { defaultProfile: 'fast' } })),
      getProfile: vi.fn(async ({ name }: { name: string }) => ({ profile: store.find((p) => p.name === name) })),
      createProfile: vi.fn(async ({ profile }: { profile: Profile }) => {
        if (!/^[A-Za-z0-9_-]+$/.test(profile.name)) throw invalidArgument('profile.name', 'profile.name must be 1 to 64 characters of A-Z, a-z, 0-9, _ and -');
        const p = create(ProfileSchema, { ...profile, updatedAt: at(200) });
        store.push(p);
        return { profile: p };
      }),
      updateProfile: vi.fn(async ({ profile }: { profile: Profile }) => {
        const p = create(ProfileSchema, { ...profile, updatedAt: at(300) });
        store = store.map((x) => (x.name === p.name ? p : x));
        return { profile: p };
      }),
      renameProfile: vi.fn(async ({ name, newName }: { name: string; newName: string }) => {
        const p = create(ProfileSchema, { ...store.find((x) => x.name === name)!, name: newName, updatedAt: at(400) });
        store = store.map((x) => (x.name === name ? p : x));
        return { profile: p };
      }),
      deleteProfile: vi.fn(async ({ name }: { name: string }) => {
        store = store.filter((x) => x.name !== name);
        return {};
      }),
    });
    const proto = HTMLDialogElement.prototype as unknown as { showModal?: () => void };
    proto.showModal ??= function (this: HTMLDialogElement) {
      this.setAttribute('open', '');
    };
  });

  let root: HTMLElement | undefined;
  afterEach(() => {
    if (!root) return;
    const el = root;
    act(() => render(null, el));
    el.remove();
    root = undefined;
  });
  const flush = async () => {
    for (let i = 0; i < 3; i++) await act(() => new Promise<void>((r) => setTimeout(r, 0)));
  };
  async function mount(role = Role.ADMIN) {
    const el = document.createElement('div');
    root = el;
    document.body.appendChild(el);
    const session = makeSession(create(PrincipalSchema, { role }), 'local', '', '');
    act(() => render(h(SessionContext.Provider, { value: session }, h(ProfilesCard, {})), el));
    await flush();
    return el;
  }
  const submit = async (b: HTMLButtonElement) => {
    await act(async () => {
      b.closest('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await flush();
  };

  it('lists profiles with the fleet default marked; read-only staff only view', async () => {
    const el = await mount(Role.READ_ONLY);
    expect(el.querySelector('tbody tr')!.textContent).toContain('fleet default');
    expect(() => button(el, 'New profile')).toThrow();
    expect(() => button(el, 'Delete')).toThrow();
    await act(async () => button(el, 'View profile fast').click());
    await flush();
    expect(byLabel(el, 'Model').disabled).toBe(true);
    expect(() => button(el, 'Save profile')).toThrow();
  });

  it('creates a profile, showing the server field error at the field first', async () => {
    const el = await mount();
    act(() => button(el, 'New profile').click());
    await typeInto(byLabel(el, 'Profile name'), 'bad name');
    await typeInto(byLabel(el, 'Model'), ' gpt-5 ');
    await submit(button(el, 'Create profile'));
    const name = byLabel(el, 'Profile name');
    expect(name.getAttribute('aria-invalid')).toBe('true');
    // Described by its hint and its error: the error is the last id.
    const errId = name.getAttribute('aria-describedby')!.split(' ').pop()!;
    expect(el.querySelector(`#${CSS.escape(errId)}`)!.textContent).toContain('A-Z, a-z');
    expect(el.querySelector('[role=alert]')!.textContent).toContain('profile.name must be');

    await typeInto(name, 'deep');
    expect(name.getAttribute('aria-invalid')).toBeNull();
    await typeInto(byLabel(el, 'Approval policy') as unknown as HTMLSelectElement, 'on-request', 'change');
    await submit(button(el, 'Create profile'));
    expect(config.createProfile).toHaveBeenLastCalledWith({ profile: expect.objectContaining({ name: 'deep', model: 'gpt-5', approvalPolicy: 'on-request' }) });
    expect(el.textContent).toContain('Created profile deep.');
    expect(el.textContent).toContain('Edit profile deep');
    expect(Array.from(el.querySelectorAll('tbody tr')).map((r) => r.querySelector('code')!.textContent)).toEqual(['fast', 'deep']);
  });

  it('saves an edit, and refuses to overwrite a change made since it was opened', async () => {
    const el = await mount();
    await act(async () => button(el, 'Edit profile fast').click());
    await flush();
    await typeInto(byLabel(el, 'Model'), 'gpt-5');
    await submit(button(el, 'Save profile'));
    expect(config.updateProfile).toHaveBeenCalledWith({ profile: expect.objectContaining({ name: 'fast', model: 'gpt-5', approvalPolicy: 'never' }) });
    expect(el.textContent).toContain('Saved profile fast.');

    // Someone else saves: the stored updated_at moves on.
    store = store.map((p) => create(ProfileSchema, { ...p, model: 'theirs', updatedAt: at(999) }));
    await typeInto(byLabel(el, 'Model'), 'mine');
    await submit(button(el, 'Save profile'));
    expect(config.updateProfile).toHaveBeenCalledTimes(1);
    expect(el.textContent).toContain('Someone changed this profile');
    expect(button(el, 'Save profile').disabled).toBe(true);
    act(() => button(el, 'Keep mine').click());
    await submit(button(el, 'Save profile'));
    expect(config.updateProfile).toHaveBeenLastCalledWith({ profile: expect.objectContaining({ model: 'mine' }) });
  });

  it('renames (keeping unsaved edits) and deletes', async () => {
    const el = await mount();
    await act(async () => button(el, 'Edit profile fast').click());
    await flush();
    await typeInto(byLabel(el, 'Model'), 'unsaved');
    await typeInto(byLabel(el, 'Rename to'), 'quick');
    await submit(button(el, 'Rename profile'));
    expect(config.renameProfile).toHaveBeenCalledWith({ name: 'fast', newName: 'quick' });
    expect(el.textContent).toContain('Edit profile quick');
    expect(byLabel(el, 'Model').value).toBe('unsaved');

    const del = button(el, 'Delete');
    act(() => del.click());
    await act(async () => {
      (del.nextElementSibling as HTMLDialogElement).querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await flush();
    expect(config.deleteProfile).toHaveBeenCalledWith({ name: 'quick' });
    expect(el.textContent).toContain('Deleted profile quick.');
    expect(el.textContent).not.toContain('Edit profile quick');
    expect(el.textContent).toContain('No profiles.');
  });
});
