// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { create } from '@bufbuild/protobuf';
import { LinkedIdentitySchema, LoginProviderSchema, OAuthProviderKind } from '../gen/codexcentral/auth/v1/auth_pb';
import { PrincipalKind, PrincipalSchema, Role } from '../gen/codexcentral/common/v1/common_pb';
import { makeSession, SessionContext } from '../lib/session';
import { AccountPage, describeAgent, kindLabel, linkable, providerChoices } from './Account';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

describe('sessions', () => {
  it('names browsers and systems', () => {
    expect(describeAgent(CHROME)).toBe('Chrome on Linux');
    expect(describeAgent(FIREFOX)).toBe('Firefox on Windows');
    expect(describeAgent(CHROME.replace('Chrome/', 'HeadlessChrome/'))).toBe('Headless Chrome on Linux');
    expect(describeAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1')).toBe('Safari on iOS');
    expect(describeAgent('curl/8.5.0')).toBe('curl');
    expect(describeAgent('')).toBe('Unknown client');
  });
});

describe('providers', () => {
  it('offers only providers not linked yet', () => {
    const p = (id: string) => create(LoginProviderSchema, { id, displayName: id.toUpperCase() });
    const linked = [create(LinkedIdentitySchema, { id: 'x', providerId: 'github' })];
    expect(linkable([p('github'), p('corp')], linked).map((x) => x.id)).toEqual(['corp']);
  });
  it('merges known upstreams with keyed ones, unique and sorted', () => {
    expect(
      providerChoices(
        [
          { id: 'openai', name: 'OpenAI' },
          { id: 'deepseek', name: '' },
          { id: 'openai', name: 'OpenAI' },
        ],
        ['gone', 'openai'],
      ),
    ).toEqual([
      { id: 'deepseek', name: 'deepseek' },
      { id: 'gone', name: 'gone' },
      { id: 'openai', name: 'OpenAI' },
    ]);
  });
  it('labels provider kinds', () => {
    expect(kindLabel(OAuthProviderKind.OAUTH_PROVIDER_KIND_GITHUB)).toBe('GitHub');
    expect(kindLabel(OAuthProviderKind.OAUTH_PROVIDER_KIND_OIDC)).toBe('OpenID Connect');
  });
});

describe('who has no account', () => {
  let root: HTMLElement;
  afterEach(() => {
    act(() => render(null, root));
    root.remove();
  });
  const mount = (kind: PrincipalKind) => {
    root = document.createElement('div');
    document.body.appendChild(root);
    const session = makeSession(create(PrincipalSchema, { kind, role: Role.ADMIN, name: 'x' }), kind === PrincipalKind.LOCAL_ADMIN ? 'off' : 'on', '127.0.0.1', '');
    act(() =>
      render(
        <SessionContext.Provider value={session}>
          <AccountPage />
        </SessionContext.Provider>,
        root,
      ),
    );
    return root;
  };
  it('explains local mode instead of showing forms', () => {
    const el = mount(PrincipalKind.LOCAL_ADMIN);
    expect(el.querySelector('h1')?.textContent).toBe('My account');
    expect(el.textContent).toContain('local mode');
    expect(el.querySelector('input')).toBeNull();
  });
  it('explains that a token has no account', () => {
    const el = mount(PrincipalKind.SERVICE_TOKEN);
    expect(el.textContent).toContain('using a token');
    expect(el.querySelector('form')).toBeNull();
  });
});
