// @vitest-environment happy-dom
// The override editor's helpers, and the card against stubbed services: the live preview with
// the unsaved block, set with a field error from the server, and the updated_at lock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { h, render } from 'preact';
import { act } from 'preact/test-utils';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { PrincipalSchema, Role } from '../gen/codexcentral/common/v1/common_pb';
import { ConfigTemplateSchema, HostConfigOverrideSchema, type HostConfigOverride } from '../gen/codexcentral/config/v1/config_pb';
import { makeSession, SessionContext } from '../lib/session';
import { button, byLabel, invalidArgument, typeInto } from '../testing/dom';

const config = vi.hoisted(() => ({}) as Record<string, ReturnType<typeof vi.fn>>);
const fleet = vi.hoisted(() => ({}) as Record<string, ReturnType<typeof vi.fn>>);
vi.mock('../lib/api', () => ({
  api: { config, fleet },
  errorMessage: (e: unknown) => (e instanceof Error ? ((e as { rawMessage?: string }).rawMessage ?? e.message) : String(e)),
}));

import { HostOverrideCard, EMPTY_OVERRIDE, effectiveProfile, overrideErrors, overrideForm, previewError, sameOverride } from './HostOverride';

describe('host override logic', () => {
  it('reads the editable fields of an override, or empty ones', () => {
    const o = create(HostConfigOverrideSchema, { hostId: '7', extraToml: '[tui]\n', defaultProfile: 'fast', requirementsToml: 'x = 1\n' });
    expect(overrideForm(o)).toEqual({ extraToml: '[tui]\n', defaultProfile: 'fast', requirementsToml: 'x = 1\n' });
    expect(overrideForm(undefined)).toEqual(EMPTY_OVERRIDE);
  });

  it('compares TOML verbatim and the profile name trimmed', () => {
    const a = { extraToml: 'a = 1\n', defaultProfile: 'fast', requirementsToml: '' };
    expect(sameOverride(a, { ...a, defaultProfile: ' fast' })).toBe(true);
    expect(sameOverride(a, { ...a, extraToml: 'a = 1' })).toBe(false);
    expect(sameOverride(a, { ...a, requirementsToml: '#' })).toBe(false);
  });

  it("finds the preview error that is the admin's own TOML", () => {
    expect(previewError([{ field: 'host_override.extra_toml', description: 'line 1, column 4: expected `=`' }])).toBe('line 1, column 4: expected `=`');
    expect(previewError([{ field: 'template.free_blocks.0.toml', description: 'the fleet template' }])).toBeUndefined();
    expect(previewError([])).toBeUndefined();
  });

  it('maps save violations to fields and resolves the default profile', () => {
    expect(overrideErrors([{ field: 'host_override.default_profile', description: 'no profile is named x' }])).toEqual({ defaultProfile: 'no profile is named x' });
    expect(effectiveProfile(' ', 'fleet')).toBe('fleet');
    expect(effectiveProfile('fast', 'fleet')).toBe('fast');
    expect(effectiveProfile('', '')).toBe('');
  });
});

describe('HostOverrideCard', () => {
  let stored: HostConfigOverride | undefined;
  beforeEach(() => {
    stored = undefined;
    for (const k of Object.keys(config)) delete config[k];
    Object.assign(config, {
      getHostConfigOverride: vi.fn(async () => ({ hostOverride: stored })),
      listProfiles: vi.fn(async () => ({ profiles: [{ name: 'fast' }] })),
      getConfigSettings: vi.fn(async () => ({ settings: { defaultProfile: 'fleetwide' } })),
      getConfigTemplate: vi.fn(async () => ({ document: { template: create(ConfigTemplateSchema, { model: 'gpt-5.1' }) } })),
      // As the server: the stored template, the host's model override, the draft block last.
      renderConfig: vi.fn(async (req: { hostOverride?: { extraToml: string }; modelOverride: string }) => {
        const extra = req.hostOverride?.extraToml ?? '';
        if (extra.includes('= =')) throw invalidArgument('host_override.extra_toml', 'line 1, column 9: expected a value');
        const content = `model = "${req.modelOverride || 'gpt-5.1'}"\n${extra}`;
        return { config: { content, sha256: 'abcdef0123456789', sizeBytes: BigInt(content.length), profiles: [] } };
      }),
      setHostConfigOverride: vi.fn(async ({ hostOverride }: { hostOverride: HostConfigOverride }) => {
        if (hostOverride.extraToml.includes('= =')) throw invalidArgument('host_override.extra_toml', 'line 1, column 9: expected a value');
        stored = create(HostConfigOverrideSchema, { ...hostOverride, updatedAt: timestampFromMs(500_000) });
        return { hostOverride: stored };
      }),
      deleteHostConfigOverride: vi.fn(async () => {
        stored = undefined;
        return {};
      }),
    });
    for (const k of Object.keys(fleet)) delete fleet[k];
    fleet.getHost = vi.fn(async () => ({ host: { id: '7', modelOverride: 'gpt-host', reasoningEffortOverride: '' } }));
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
  // The preview re-renders 300 ms after the last edit.
  const settle = async () => {
    await act(() => new Promise<void>((r) => setTimeout(r, 350)));
    await flush();
  };
  async function mount(role = Role.ADMIN) {
    const el = document.createElement('div');
    root = el;
    document.body.appendChild(el);
    const session = makeSession(create(PrincipalSchema, { role }), 'local', '', '');
    act(() => render(h(SessionContext.Provider, { value: session }, h(HostOverrideCard, { hostId: '7' })), el));
    await flush();
    await settle();
    return el;
  }
  const submit = async (b: HTMLButtonElement) => {
    await act(async () => {
      b.closest('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await flush();
  };
  const preview = (el: Element) => el.querySelector('[data-testid=host-config-preview]')?.textContent ?? '';

  it('previews the unsaved block live, flags bad TOML at its field, then sets the override', async () => {
    const el = await mount();
    expect(el.textContent).toContain('No override');
    expect(preview(el)).toBe('model = "gpt-host"\n');
    expect(button(el, 'Set override').disabled).toBe(true);

    const extra = byLabel(el, 'Extra config.toml for this host');
    await typeInto(extra, 'oops = = 1');
    await settle();
    expect(extra.getAttribute('aria-invalid')).toBe('true');
    expect(el.textContent).toContain('line 1, column 9');
    await submit(button(el, 'Set override'));
    expect(el.querySelector('[role=alert]')!.textContent).toContain('line 1, column 9');

    await typeInto(extra, '[tui]\nnotifications = false\n');
    await settle();
    expect(extra.getAttribute('aria-invalid')).toBeNull();
    expect(preview(el)).toContain('notifications = false');
    expect(el.textContent).toContain('with your unsaved changes');
    await typeInto(byLabel(el, 'Default profile'), 'fast', 'change');
    expect(el.textContent).toContain('Default profile: fast');
    await submit(button(el, 'Set override'));
    expect(config.setHostConfigOverride).toHaveBeenLastCalledWith({
      hostOverride: { hostId: '7', extraToml: '[tui]\nnotifications = false\n', defaultProfile: 'fast', requirementsToml: '' },
    });
    expect(el.textContent).toContain('Override set.');
    expect(el.textContent).toContain('has an override');
    expect(el.textContent).toContain('as saved');
  });

  it('refuses to overwrite an override changed since it was opened', async () => {
    stored = create(HostConfigOverrideSchema, { hostId: '7', extraToml: '# mine\n', updatedAt: { seconds: 100n, nanos: 0 } });
    const el = await mount();
    expect(byLabel(el, 'Extra config.toml for this host').value).toBe('# mine\n');
    expect(byLabel(el, 'Default profile').value).toBe('');
    expect(el.textContent).toContain('(fleet default: fleetwide)');
    stored = create(HostConfigOverrideSchema, { hostId: '7', extraToml: '# theirs\n', updatedAt: { seconds: 200n, nanos: 0 } });
    await typeInto(byLabel(el, 'Extra config.toml for this host'), '# edited\n');
    await submit(button(el, 'Save override'));
    expect(config.setHostConfigOverride).not.toHaveBeenCalled();
    expect(el.textContent).toContain("Someone changed this host's override");
    act(() => button(el, 'Load their version').click());
    expect(byLabel(el, 'Extra config.toml for this host').value).toBe('# theirs\n');
  });

  it('removes the override after confirmation', async () => {
    const proto = HTMLDialogElement.prototype as unknown as { showModal?: () => void };
    proto.showModal ??= function (this: HTMLDialogElement) {
      this.setAttribute('open', '');
    };
    stored = create(HostConfigOverrideSchema, { hostId: '7', extraToml: '# x\n', defaultProfile: 'fast', updatedAt: { seconds: 100n, nanos: 0 } });
    const el = await mount();
    expect(preview(el)).toContain('# x');
    const remove = button(el, 'Remove override');
    act(() => remove.click());
    await act(async () => {
      (remove.nextElementSibling as HTMLDialogElement).querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await flush();
    await settle();
    expect(config.deleteHostConfigOverride).toHaveBeenCalledWith({ hostId: '7' });
    expect(el.textContent).toContain('Override removed.');
    expect(el.textContent).toContain('No override');
    expect(byLabel(el, 'Extra config.toml for this host').value).toBe('');
    expect(preview(el)).not.toContain('# x');
  });

  it('says when there is no fleet template to preview', async () => {
    config.getConfigTemplate = vi.fn(async () => ({}));
    const el = await mount();
    expect(el.textContent).toContain('No fleet config.toml template is saved yet');
    expect(config.renderConfig).not.toHaveBeenCalled();
  });

  it('shows read-only staff the override without write controls', async () => {
    stored = create(HostConfigOverrideSchema, { hostId: '7', extraToml: '# x\n', updatedAt: { seconds: 100n, nanos: 0 } });
    const el = await mount(Role.READ_ONLY);
    expect(byLabel(el, 'Extra config.toml for this host').disabled).toBe(true);
    expect(() => button(el, 'Save override')).toThrow();
    expect(() => button(el, 'Remove override')).toThrow();
    expect(preview(el)).toContain('# x');
  });
});
