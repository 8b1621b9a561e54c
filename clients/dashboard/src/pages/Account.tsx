// My account: the signed-in person's profile, password, upstream (BYOK) keys, browser sessions
// and linked sign-in accounts. Only people have an account: the local-mode operator and service
// tokens get a note instead. The server page /admin/account stays for browsers without the SPA.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, csrfToken } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { roleLabel } from '../lib/access';
import { tsDate } from '../lib/format';
import { PrincipalKind, Role } from '../gen/codexcentral/common/v1/common_pb';
import { ByokKeyStatus, OAuthProviderKind, type LinkedIdentity, type LoginProvider } from '../gen/codexcentral/auth/v1/auth_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Facts, Field, Notice, PageHeader, Pager, Rel, usePager } from '../components/ui';
import { MIN_PASSWORD, passwordProblem } from '../lib/passwords';

/** "Firefox on Linux" from a User-Agent header; the raw string stays in the tooltip. */
export function describeAgent(ua: string): string {
  if (!ua.trim()) return 'Unknown client';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /HeadlessChrome\//.test(ua)
          ? 'Headless Chrome'
          : /Chrom(e|ium)\//.test(ua)
            ? 'Chrome'
            : /Safari\//.test(ua)
              ? 'Safari'
              : ua.split(/[\s/]/)[0];
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad|iPod/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'macOS'
          : /CrOS/.test(ua)
            ? 'ChromeOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : '';
  return os ? `${browser} on ${os}` : browser;
}

/** Enabled sign-in providers the person has not linked yet. */
export function linkable(providers: LoginProvider[], identities: LinkedIdentity[]): LoginProvider[] {
  return providers.filter((p) => !identities.some((i) => i.providerId === p.id));
}

/** Provider choices for a new key: known upstreams plus those already keyed, sorted, unique. */
export function providerChoices(known: { id: string; name: string }[], keyed: string[]): { id: string; name: string }[] {
  const byId = new Map<string, string>();
  for (const k of known) if (k.id) byId.set(k.id, k.name || k.id);
  for (const id of keyed) if (!byId.has(id)) byId.set(id, id);
  return [...byId].map(([id, name]) => ({ id, name })).sort((a, b) => a.id.localeCompare(b.id));
}

export function kindLabel(kind: OAuthProviderKind): string {
  switch (kind) {
    case OAuthProviderKind.OAUTH_PROVIDER_KIND_GITHUB:
      return 'GitHub';
    case OAuthProviderKind.OAUTH_PROVIDER_KIND_GITEE:
      return 'Gitee';
    case OAuthProviderKind.OAUTH_PROVIDER_KIND_OIDC:
      return 'OpenID Connect';
    default:
      return 'unknown';
  }
}

const input = (set: (v: string) => void) => (e: Event) => set((e.currentTarget as HTMLInputElement).value);

export function AccountPage() {
  const s = useSession();
  if (s.principal.kind !== PrincipalKind.USER) {
    return (
      <div>
        <PageHeader title="My account" />
        <Notice kind="info">
          {s.principal.kind === PrincipalKind.LOCAL_ADMIN
            ? 'The server runs in local mode (auth mode off): nobody signs in, so there is no personal account, password or session here. Turn auth mode on to give people accounts.'
            : 'You are using a token, not a personal account: there is no profile, password or session to manage. Sign in as a person to see your account.'}
        </Notice>
      </div>
    );
  }
  return (
    <div>
      <PageHeader title="My account" />
      <div class="grid two">
        <ProfileCard />
        <PasswordCard />
      </div>
      <ByokCard />
      <SessionsCard />
      <LinkedCard />
    </div>
  );
}

function ProfileCard() {
  const s = useSession();
  // GetUser and UpdateUser answer a person for their own account.
  const st = useAsync(() => api.users.getUser({ id: s.principal.id }), [s.principal.id]);
  const [name, setName] = useState<string>();
  const act = useAction();
  const [done, setDone] = useState<string>();
  const user = st.data?.user;
  useEffect(() => {
    if (user) setName(user.displayName);
  }, [user?.displayName]);
  const facts: [string, ComponentChildren][] = [
    ['Username', <strong>{s.principal.name}</strong>],
    ['Role', roleLabel(s.role)],
  ];
  if (user) {
    facts.push(['Password', user.hasPassword ? 'set' : <Badge>external login only</Badge>]);
    facts.push(['Member since', <Rel date={tsDate(user.createdAt)} />]);
  }
  return (
    <Card title="Profile">
      <div class="form">
        <Facts items={facts} />
        <AsyncView state={st} label="Loading your profile…">
          {() => (
            <form
              class="form"
              onSubmit={async (e) => {
                e.preventDefault();
                setDone(undefined);
                const r = await act.run(() => api.users.updateUser({ id: s.principal.id, displayName: (name ?? '').trim() }));
                if (r?.user) {
                  setName(r.user.displayName);
                  setDone('Display name saved.');
                }
              }}
            >
              <Field label="Display name" hint="empty: your username">
                {(id) => <input id={id} type="text" maxLength={191} autocomplete="name" value={name ?? ''} onInput={input(setName)} />}
              </Field>
              <ErrorNote message={act.error} />
              {done && <Notice kind="ok">{done}</Notice>}
              <button type="submit" class="primary" disabled={act.busy}>
                Save display name
              </button>
            </form>
          )}
        </AsyncView>
      </div>
    </Card>
  );
}

function PasswordCard() {
  const s = useSession();
  const [f, setF] = useState({ current: '', next: '', confirm: '' });
  const [invalid, setInvalid] = useState<string>();
  const [done, setDone] = useState(false);
  const act = useAction();
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <Card title="Change password">
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          setDone(false);
          const problem = passwordProblem(f.next, f.confirm);
          setInvalid(problem);
          if (problem) return;
          const r = await act.run(() => api.users.changePassword({ currentPassword: f.current, newPassword: f.next }));
          if (r) {
            setF({ current: '', next: '', confirm: '' });
            setDone(true);
          }
        }}
      >
        {/* For password managers: which account the new password belongs to. */}
        <input type="text" hidden autocomplete="username" value={s.principal.name} readOnly />
        <Field label="Current password">
          {(id) => <input id={id} type="password" required autocomplete="current-password" value={f.current} onInput={set('current')} />}
        </Field>
        <Field label="New password" hint={`at least ${MIN_PASSWORD} characters`}>
          {(id) => <input id={id} type="password" required minLength={MIN_PASSWORD} autocomplete="new-password" value={f.next} onInput={set('next')} />}
        </Field>
        <Field label="Confirm new password">
          {(id) => <input id={id} type="password" required minLength={MIN_PASSWORD} autocomplete="new-password" value={f.confirm} onInput={set('confirm')} />}
        </Field>
        <ErrorNote message={invalid ?? act.error} />
        {done && <Notice kind="ok">Password changed. Your other sessions stay signed in: revoke them below if needed.</Notice>}
        <button type="submit" class="primary" disabled={act.busy}>
          Change password
        </button>
      </form>
    </Card>
  );
}

function ByokCard() {
  const s = useSession();
  const keys = useAsync(() => api.byok.listByokKeys({}), []);
  // Admins read the provider list itself (disabled presets included); members only see the
  // providers that offer models.
  const known = useAsync(async () => {
    if (s.role === Role.ADMIN) {
      const r = await api.config.listUpstreamProviders({ includeDisabled: true });
      return r.providers.map((p) => ({ id: p.id, name: p.name }));
    }
    const r = await api.config.listModels({});
    return r.models.map((m) => ({ id: m.providerId, name: m.providerName }));
  }, [s.role]);
  const choices = providerChoices(known.data ?? [], keys.data?.keys.map((k) => k.providerId) ?? []);
  const [provider, setProvider] = useState('');
  const [key, setKey] = useState('');
  const act = useAction();
  const [done, setDone] = useState<string>();
  const run = async (fn: () => Promise<string>) => {
    setDone(undefined);
    const said = await act.run(fn);
    if (said) setDone(said);
    keys.reload();
  };
  return (
    <Card title="Your upstream keys (BYOK)">
      <p class="small muted">
        A key of your own for an upstream provider is used for your <code>/v1</code> requests instead of the shared key. It is stored encrypted and never shown
        again: only its last characters.
      </p>
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const id = provider.trim();
          await run(async () => {
            const r = await api.byok.setByokKey({ providerId: id, key: key.trim() });
            setKey('');
            return `Key saved for ${id} (${r.key?.maskedSuffix ?? 'masked'}).`;
          });
        }}
      >
        <div class="row">
          <Field label="Provider" hint={known.error && !choices.length ? `Could not list providers (${known.error}): type its id.` : undefined}>
            {(id) =>
              choices.length ? (
                <select id={id} required value={provider} onChange={(e) => setProvider((e.currentTarget as HTMLSelectElement).value)}>
                  <option value="">Choose a provider</option>
                  {choices.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name === c.id ? c.id : `${c.name} (${c.id})`}
                    </option>
                  ))}
                </select>
              ) : (
                <input id={id} type="text" required maxLength={64} autocomplete="off" value={provider} onInput={input(setProvider)} />
              )
            }
          </Field>
          <Field label="API key">
            {(id) => <input id={id} type="password" required autocomplete="off" spellcheck={false} value={key} onInput={input(setKey)} />}
          </Field>
        </div>
        <ErrorNote message={act.error} />
        {done && <Notice kind="ok">{done}</Notice>}
        <button type="submit" class="primary" disabled={act.busy}>
          Save key
        </button>
      </form>
      <AsyncView state={keys} label="Loading your keys…">
        {(r) =>
          r.keys.length === 0 ? (
            <Empty>No keys of your own: your requests use the shared keys.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Your upstream keys</caption>
                <thead>
                  <tr>
                    <th scope="col">Provider</th>
                    <th scope="col">Key</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="hide-narrow">
                      Updated
                    </th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.keys.map((k) => (
                    <tr key={k.providerId}>
                      <td class="wrap">
                        <strong>{k.providerId}</strong>
                      </td>
                      <td>
                        <code>{k.maskedSuffix}</code>
                      </td>
                      <td>
                        {k.status === ByokKeyStatus.NEEDS_REENTRY ? <Badge kind="warn">enter it again</Badge> : <Badge kind="ok">ok</Badge>}
                      </td>
                      <td class="hide-narrow">
                        <Rel date={tsDate(k.updatedAt)} />
                      </td>
                      <td>
                        <ConfirmButton
                          label="Delete"
                          class="danger small"
                          title={`Delete your ${k.providerId} key?`}
                          message={<p>Your requests to {k.providerId} use the shared key again.</p>}
                          confirmLabel="Delete key"
                          danger
                          disabled={act.busy}
                          onConfirm={() =>
                            run(async () => {
                              await api.byok.deleteByokKey({ providerId: k.providerId });
                              return `Deleted your ${k.providerId} key.`;
                            })
                          }
                        />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </AsyncView>
    </Card>
  );
}

function SessionsCard() {
  const pager = usePager();
  const st = useAsync(() => api.sessions.listSessions({ page: { pageSize: 50, pageToken: pager.token } }), [pager.token]);
  const act = useAction();
  const [done, setDone] = useState<string>();
  return (
    <Card title="Sessions">
      <p class="small muted">Browsers signed in as you. Revoking one signs it out at once.</p>
      <ErrorNote message={act.error} />
      {done && <Notice kind="ok">{done}</Notice>}
      <AsyncView state={st} label="Loading your sessions…">
        {(r) => {
          if (r.sessions.length === 0) return <Empty>No open sessions.</Empty>;
          return (
            <>
              <div class="table-wrap">
                <table>
                  <caption class="visually-hidden">Your sessions</caption>
                  <thead>
                    <tr>
                      <th scope="col">Browser</th>
                      <th scope="col" class="hide-narrow">
                        Address
                      </th>
                      <th scope="col" class="hide-narrow">
                        Signed in
                      </th>
                      <th scope="col">Last used</th>
                      <th scope="col" class="hide-narrow">
                        Expires
                      </th>
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.sessions.map((x) => {
                      const mine = x.current;
                      return (
                        <tr key={x.id} data-testid={mine ? 'current-session' : undefined}>
                          <td class="wrap">
                            <span title={x.userAgent}>{describeAgent(x.userAgent)}</span>{' '}
                            {mine && <Badge kind="info">this browser</Badge>}
                          </td>
                          <td class="hide-narrow">
                            <code>{x.clientIp || '—'}</code>
                          </td>
                          <td class="hide-narrow">
                            <Rel date={tsDate(x.createdAt)} />
                          </td>
                          <td>
                            <Rel date={tsDate(x.lastSeenAt)} />
                          </td>
                          <td class="hide-narrow">
                            <Rel date={tsDate(x.expiresAt)} />
                          </td>
                          <td>
                            <ConfirmButton
                              label="Revoke"
                              class="danger small"
                              title={mine ? 'Sign out this browser?' : `Revoke the ${describeAgent(x.userAgent)} session?`}
                              message={
                                <p>{mine ? 'This looks like the session you are using now: you will be sent to the sign-in page.' : 'That browser is signed out at once.'}</p>
                              }
                              confirmLabel="Revoke session"
                              danger
                              disabled={act.busy}
                              onConfirm={async () => {
                                setDone(undefined);
                                const ok = await act.run(() => api.sessions.revokeSession({ id: x.id }));
                                if (ok) setDone('Session revoked.');
                                st.reload();
                              }}
                            />
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              {(pager.index > 0 || r.nextPageToken) && <Pager pager={pager} nextToken={r.nextPageToken} label="Session pages" />}
            </>
          );
        }}
      </AsyncView>
    </Card>
  );
}

function LinkedCard() {
  const ids = useAsync(() => api.signIn.listLinkedIdentities({}), []);
  const providers = useAsync(() => api.signIn.listLoginProviders({}), []);
  const act = useAction();
  const [done, setDone] = useState<string>();
  const names = new Map((providers.data?.providers ?? []).map((p) => [p.id, p.displayName]));
  const open = providers.data && ids.data ? linkable(providers.data.providers, ids.data.identities) : [];
  return (
    <Card title="Linked sign-in accounts">
      <ErrorNote message={act.error} />
      {done && <Notice kind="ok">{done}</Notice>}
      <AsyncView state={ids} label="Loading linked accounts…">
        {(r) =>
          r.identities.length === 0 ? (
            <Empty>No linked accounts: you sign in with your password.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Linked sign-in accounts</caption>
                <thead>
                  <tr>
                    <th scope="col">Provider</th>
                    <th scope="col">Account</th>
                    <th scope="col" class="hide-narrow">
                      Linked
                    </th>
                    <th scope="col" class="hide-narrow">
                      Last sign-in
                    </th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.identities.map((i) => {
                    const name = names.get(i.providerId) ?? i.providerId;
                    return (
                      <tr key={i.id}>
                        <td class="wrap">
                          {name}
                          {name !== kindLabel(i.providerKind) && <span class="muted small"> · {kindLabel(i.providerKind)}</span>}
                        </td>
                        <td class="wrap">{i.display || <code>{i.subject}</code>}</td>
                        <td class="hide-narrow">
                          <Rel date={tsDate(i.linkedAt)} />
                        </td>
                        <td class="hide-narrow">
                          <Rel date={tsDate(i.lastLoginAt)} />
                        </td>
                        <td>
                          <ConfirmButton
                            label="Unlink"
                            class="danger small"
                            title={`Unlink ${name}?`}
                            message={<p>You can no longer sign in with {i.display || 'this account'} until you link it again.</p>}
                            confirmLabel="Unlink account"
                            danger
                            disabled={act.busy}
                            onConfirm={async () => {
                              setDone(undefined);
                              const ok = await act.run(() => api.signIn.unlinkIdentity({ id: i.id }));
                              if (ok) setDone(`Unlinked ${name}.`);
                              ids.reload();
                            }}
                          />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </AsyncView>
      {providers.error && <ErrorNote message={`Could not list sign-in providers: ${providers.error}`} onRetry={providers.reload} />}
      {open.length > 0 && (
        <div class="button-row">
          {/* A plain form post, as the server page does: the server answers with a page that
              goes on to the provider (this page's CSP forbids following a form elsewhere) and
              the provider sends the browser back here. */}
          {open.map((p) => (
            <form key={p.id} method="post" action={`/oauth/start/${encodeURIComponent(p.id)}`}>
              <input type="hidden" name="csrf_token" value={csrfToken()} />
              <input type="hidden" name="return_to" value="/admin/#/account" />
              <button type="submit" class="secondary">
                Link {p.displayName || p.id}
              </button>
            </form>
          ))}
        </div>
      )}
    </Card>
  );
}
