// Providers: the upstream model providers the /v1 gateway routes to (models, shared key,
// enabled), and the OAuth/OIDC sign-in providers.

import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { tsDate } from '../lib/format';
import { UpstreamKind, WireApi, type UpstreamProvider } from '../gen/codexcentral/config/v1/config_pb';
import { OAuthProviderKind, type OAuthProvider } from '../gen/codexcentral/auth/v1/auth_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Field, PageHeader, Rel } from '../components/ui';

const UPSTREAM_KINDS: [UpstreamKind, string][] = [
  [UpstreamKind.OPENAI, 'OpenAI'],
  [UpstreamKind.MIMO, 'MiMo'],
  [UpstreamKind.DEEPSEEK, 'DeepSeek'],
  [UpstreamKind.OPENAI_COMPATIBLE, 'OpenAI-compatible'],
];

const OAUTH_KINDS: [OAuthProviderKind, string][] = [
  [OAuthProviderKind.OAUTH_PROVIDER_KIND_GITHUB, 'GitHub'],
  [OAuthProviderKind.OAUTH_PROVIDER_KIND_GITEE, 'Gitee'],
  [OAuthProviderKind.OAUTH_PROVIDER_KIND_OIDC, 'OpenID Connect'],
];

export function ProvidersPage() {
  return (
    <div>
      <PageHeader title="Providers" />
      <UpstreamCard />
      <OAuthCard />
    </div>
  );
}

function UpstreamCard() {
  const s = useSession();
  const st = useAsync(() => api.config.listUpstreamProviders({ includeDisabled: true }), []);
  const act = useAction();
  const setEnabled = async (p: UpstreamProvider, enabled: boolean) => {
    await act.run(() => api.config.updateUpstreamProvider({ provider: { ...p, enabled } }));
    st.reload();
  };
  return (
    <Card title="Model providers (the /v1 gateway)">
      <ErrorNote message={act.error} />
      <AsyncView state={st}>
        {(r) =>
          r.providers.length === 0 ? (
            <Empty>No upstream providers.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Provider</th>
                    <th scope="col">Models</th>
                    <th scope="col" class="hide-narrow">
                      Shared key
                    </th>
                    <th scope="col">Enabled</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.providers.map((p) => (
                    <tr key={p.id}>
                      <td class="wrap">
                        <strong>{p.name || p.id}</strong>
                        <div class="small muted">
                          {UPSTREAM_KINDS.find(([k]) => k === p.kind)?.[1] ?? 'unknown'} · {p.wireApi === WireApi.CHAT ? 'chat completions' : 'responses'} · {p.baseUrl}
                        </div>
                      </td>
                      <td class="wrap small">
                        {p.models.length
                          ? p.models.map((m) => (
                              <span key={m.id} class={m.enabled ? '' : 'muted'}>
                                {m.id}
                                {m.upstreamModel && m.upstreamModel !== m.id ? ` → ${m.upstreamModel}` : ''}{' '}
                              </span>
                            ))
                          : '—'}
                      </td>
                      <td class="hide-narrow">{p.sharedKeySet ? <code>…{p.sharedKeySuffix}</code> : <span class="muted">none (BYOK only)</span>}</td>
                      <td>
                        <input
                          type="checkbox"
                          role="switch"
                          class="switch"
                          aria-label={`${p.name || p.id} enabled`}
                          checked={p.enabled}
                          disabled={!s.canWrite || act.busy}
                          onChange={(e) => setEnabled(p, (e.currentTarget as HTMLInputElement).checked)}
                        />
                      </td>
                      <td>
                        {s.canWrite && (
                          <ConfirmButton
                            label="Remove"
                            class="danger small"
                            title={`Remove ${p.name || p.id}?`}
                            message={<p>Calls for its models fail until another provider offers them.</p>}
                            confirmLabel="Remove"
                            danger
                            onConfirm={async () => {
                              await act.run(() => api.config.deleteUpstreamProvider({ id: p.id }));
                              st.reload();
                            }}
                          />
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </AsyncView>
      {s.canWrite && <NewUpstream onDone={st.reload} />}
    </Card>
  );
}

function NewUpstream({ onDone }: { onDone: () => void }) {
  const [f, setF] = useState({ id: '', name: '', kind: UpstreamKind.OPENAI_COMPATIBLE, baseUrl: '', wireApi: WireApi.RESPONSES, models: '', key: '' });
  const act = useAction();
  const input = (key: 'id' | 'name' | 'baseUrl' | 'models' | 'key', label: string, secret = false) => (
    <Field label={label}>
      {(id) =>
        secret ? (
          <input id={id} type="password" autocomplete="off" value={f[key]} onInput={(e) => setF({ ...f, [key]: (e.currentTarget as HTMLInputElement).value })} />
        ) : (
          <input id={id} type="text" autocomplete="off" value={f[key]} onInput={(e) => setF({ ...f, [key]: (e.currentTarget as HTMLInputElement).value })} />
        )
      }
    </Field>
  );
  return (
    <details>
      <summary>Add a model provider</summary>
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const models = f.models
            .split(',')
            .map((m) => m.trim())
            .filter(Boolean)
            .map((m) => ({ id: m, upstreamModel: m, enabled: true }));
          const r = await act.run(() =>
            api.config.createUpstreamProvider({
              provider: { id: f.id.trim(), name: f.name.trim(), kind: f.kind, baseUrl: f.baseUrl.trim(), wireApi: f.wireApi, models, enabled: true },
              sharedKey: f.key,
            }),
          );
          if (r) {
            setF({ ...f, id: '', name: '', baseUrl: '', models: '', key: '' });
            onDone();
          }
        }}
      >
        <div class="row">
          {input('id', 'Id')}
          {input('name', 'Name')}
          <Field label="Kind">
            {(id) => (
              <select id={id} value={String(f.kind)} onChange={(e) => setF({ ...f, kind: Number((e.currentTarget as HTMLSelectElement).value) })}>
                {UPSTREAM_KINDS.map(([k, l]) => (
                  <option key={k} value={String(k)}>
                    {l}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Wire API">
            {(id) => (
              <select id={id} value={String(f.wireApi)} onChange={(e) => setF({ ...f, wireApi: Number((e.currentTarget as HTMLSelectElement).value) })}>
                <option value={String(WireApi.RESPONSES)}>responses</option>
                <option value={String(WireApi.CHAT)}>chat completions</option>
              </select>
            )}
          </Field>
        </div>
        <div class="row">
          {input('baseUrl', 'Base URL')}
          {input('models', 'Models (comma-separated)')}
          {input('key', 'Shared key (optional)', true)}
        </div>
        <ErrorNote message={act.error} />
        <button type="submit" class="primary" disabled={act.busy}>
          Add provider
        </button>
      </form>
    </details>
  );
}

function OAuthCard() {
  const s = useSession();
  const st = useAsync(() => api.signIn.listOAuthProviders({}), []);
  const act = useAction();
  const toggle = async (p: OAuthProvider, enabled: boolean) => {
    await act.run(() =>
      api.signIn.updateOAuthProvider({ id: p.id, displayName: p.displayName, clientId: p.clientId, clientSecret: '', issuerUrl: p.issuerUrl, scopes: p.scopes, enabled }),
    );
    st.reload();
  };
  return (
    <Card title="Sign-in providers (OAuth / OIDC)">
      <ErrorNote message={act.error} />
      <AsyncView state={st}>
        {(r) =>
          r.providers.length === 0 ? (
            <Empty>No sign-in providers: people sign in with a password.</Empty>
          ) : (
            <ul class="plain">
              {r.providers.map((p) => (
                <li key={p.id}>
                  <strong>{p.displayName || p.id}</strong>
                  <Badge>{OAUTH_KINDS.find(([k]) => k === p.kind)?.[1] ?? 'unknown'}</Badge>
                  {!p.clientSecretSet && <Badge kind="warn">no client secret</Badge>}
                  <span class="small muted">
                    callback <code>{p.callbackUrl}</code> · updated <Rel date={tsDate(p.updatedAt)} />
                  </span>
                  <input
                    type="checkbox"
                    role="switch"
                    class="switch"
                    aria-label={`${p.displayName || p.id} enabled`}
                    checked={p.enabled}
                    disabled={!s.canWrite || act.busy}
                    onChange={(e) => toggle(p, (e.currentTarget as HTMLInputElement).checked)}
                  />
                  {s.canWrite && (
                    <ConfirmButton
                      label="Remove"
                      class="danger small"
                      title={`Remove ${p.displayName || p.id}?`}
                      message={<p>People who signed in with it keep their accounts but cannot sign in with it.</p>}
                      confirmLabel="Remove"
                      danger
                      onConfirm={async () => {
                        await act.run(() => api.signIn.deleteOAuthProvider({ id: p.id }));
                        st.reload();
                      }}
                    />
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </AsyncView>
      {s.canWrite && <NewOAuth onDone={st.reload} />}
    </Card>
  );
}

function NewOAuth({ onDone }: { onDone: () => void }) {
  const [f, setF] = useState({ id: '', kind: OAuthProviderKind.OAUTH_PROVIDER_KIND_GITHUB, displayName: '', clientId: '', clientSecret: '', issuerUrl: '' });
  const act = useAction();
  const input = (key: 'id' | 'displayName' | 'clientId' | 'clientSecret' | 'issuerUrl', label: string, secret = false) => (
    <Field label={label}>
      {(id) =>
        secret ? (
          <input id={id} type="password" autocomplete="off" value={f[key]} onInput={(e) => setF({ ...f, [key]: (e.currentTarget as HTMLInputElement).value })} />
        ) : (
          <input id={id} type="text" autocomplete="off" value={f[key]} onInput={(e) => setF({ ...f, [key]: (e.currentTarget as HTMLInputElement).value })} />
        )
      }
    </Field>
  );
  return (
    <details>
      <summary>Add a sign-in provider</summary>
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const r = await act.run(() => api.signIn.createOAuthProvider({ ...f, id: f.id.trim(), enabled: true, scopes: [] }));
          if (r) {
            setF({ ...f, id: '', displayName: '', clientId: '', clientSecret: '', issuerUrl: '' });
            onDone();
          }
        }}
      >
        <div class="row">
          {input('id', 'Id (callback slug)')}
          <Field label="Kind">
            {(id) => (
              <select id={id} value={String(f.kind)} onChange={(e) => setF({ ...f, kind: Number((e.currentTarget as HTMLSelectElement).value) })}>
                {OAUTH_KINDS.map(([k, l]) => (
                  <option key={k} value={String(k)}>
                    {l}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {input('displayName', 'Display name')}
        </div>
        <div class="row">
          {input('clientId', 'Client id')}
          {input('clientSecret', 'Client secret', true)}
          {f.kind === OAuthProviderKind.OAUTH_PROVIDER_KIND_OIDC && input('issuerUrl', 'Issuer URL')}
        </div>
        <ErrorNote message={act.error} />
        <button type="submit" class="primary" disabled={act.busy}>
          Add sign-in provider
        </button>
      </form>
    </details>
  );
}
