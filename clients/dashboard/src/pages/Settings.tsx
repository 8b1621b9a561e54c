// Settings: config distribution (managed MCP entry, default profile, host pushes), refresh-token
// custody of the canonical auth.json, memory and workspace limits, prices, service tokens.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync, useSettingsForm } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, formatCost, tsDate } from '../lib/format';
import { HostContentPush, type ConfigSettings } from '../gen/codexcentral/config/v1/config_pb';
import { RefreshTokenCustody, ServiceTokenScope, type CreateServiceTokenResponse } from '../gen/codexcentral/auth/v1/auth_pb';
import { PriceSource } from '../gen/codexcentral/usage/v1/usage_pb';
import type { MemorySettings } from '../gen/codexcentral/memory/v1/memory_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Field, Notice, PageHeader, Rel, SaveRow, SecretBox, Switch } from '../components/ui';

export function SettingsPage() {
  return (
    <div>
      <PageHeader title="Settings" />
      <div class="grid two">
        <ConfigSettingsCard />
        <CustodyCard />
        <MemorySettingsCard />
        <ServiceTokensCard />
      </div>
      <PricesCard />
    </div>
  );
}

function ConfigSettingsCard() {
  const s = useSession();
  const f = useSettingsForm<ConfigSettings>(
    async () => (await api.config.getConfigSettings({})).settings,
    async (settings) => (await api.config.updateConfigSettings({ settings })).settings,
  );
  const v = f.value;
  return (
    <Card title="Config distribution">
      {!v ? (
        <AsyncView state={f.st}>{() => <Empty>No settings returned.</Empty>}</AsyncView>
      ) : (
        <form class="form" onSubmit={f.submit}>
          <Switch label="Managed MCP entry" hint="bake [mcp_servers.cdx] into every host's config" checked={v.managedMcpEnabled} disabled={!s.canWrite} onChange={(x) => f.edit({ ...v, managedMcpEnabled: x })} />
          <Field label="Default profile (empty: none)">
            {(id) => <input id={id} type="text" value={v.defaultProfile} disabled={!s.canWrite} onInput={(e) => f.edit({ ...v, defaultProfile: (e.currentTarget as HTMLInputElement).value })} />}
          </Field>
          <Field label="When a host pushes a prompt or skill">
            {(id) => (
              <select id={id} value={String(v.hostContentPush)} disabled={!s.canWrite} onChange={(e) => f.edit({ ...v, hostContentPush: Number((e.currentTarget as HTMLSelectElement).value) })}>
                <option value={String(HostContentPush.ON)}>it becomes the fleet's copy</option>
                <option value={String(HostContentPush.REVIEW)}>an admin reviews it</option>
                <option value={String(HostContentPush.OFF)}>it is refused</option>
              </select>
            )}
          </Field>
          <SaveRow error={f.error} saved={f.saved} busy={f.busy} canWrite={s.canWrite} />
        </form>
      )}
    </Card>
  );
}

function CustodyCard() {
  const s = useSession();
  const st = useAsync(() => api.codexAuth.getCodexAuthSettings({}), []);
  const [custody, setCustody] = useState<RefreshTokenCustody>();
  const act = useAction();
  useEffect(() => {
    if (st.data && custody === undefined) setCustody(st.data.settings?.refreshTokenCustody ?? RefreshTokenCustody.UNSPECIFIED);
  }, [st.data]);
  return (
    <Card title="ChatGPT refresh token">
      {custody === undefined ? (
        <AsyncView state={st}>{() => null}</AsyncView>
      ) : (
        <>
          <Field label="Who holds the refresh token">
            {(id) => (
              <select
                id={id}
                value={String(custody)}
                disabled={!s.canWrite || act.busy}
                onChange={async (e) => {
                  const next = Number((e.currentTarget as HTMLSelectElement).value) as RefreshTokenCustody;
                  const r = await act.run(() => api.codexAuth.updateCodexAuthSettings({ settings: { refreshTokenCustody: next } }));
                  if (r?.settings) setCustody(r.settings.refreshTokenCustody);
                }}
              >
                {custody === RefreshTokenCustody.UNSPECIFIED && <option value="0">(default)</option>}
                <option value={String(RefreshTokenCustody.SERVER)}>the server only (hosts get a placeholder)</option>
                <option value={String(RefreshTokenCustody.SHARED)}>shared with hosts</option>
              </select>
            )}
          </Field>
          <ErrorNote message={act.error} />
        </>
      )}
    </Card>
  );
}

function MemorySettingsCard() {
  const s = useSession();
  const f = useSettingsForm<MemorySettings>(
    async () => (await api.memory.getMemorySettings({})).settings,
    async (settings) => (await api.memory.updateMemorySettings({ settings })).settings,
  );
  const v = f.value;
  const num = (key: 'maxContentBytes', label: string) => (
    <Field label={label}>
      {(id) => <input id={id} type="number" min={1} value={v![key]} disabled={!s.canWrite} onInput={(e) => f.edit({ ...v!, [key]: Number((e.currentTarget as HTMLInputElement).value) })} />}
    </Field>
  );
  const big = (key: 'workspaceQuotaBytes' | 'workspaceMaxFileBytes', label: string) => (
    <Field label={label} hint={formatBytes(v![key])}>
      {(id) => <input id={id} type="number" min={0} value={String(v![key])} disabled={!s.canWrite} onInput={(e) => f.edit({ ...v!, [key]: BigInt((e.currentTarget as HTMLInputElement).value || '0') })} />}
    </Field>
  );
  return (
    <Card title="Memories and workspace">
      {!v ? (
        <AsyncView state={f.st}>{() => <Empty>No settings returned.</Empty>}</AsyncView>
      ) : (
        <form class="form" onSubmit={f.submit}>
          {num('maxContentBytes', 'Largest memory (bytes)')}
          <Switch label="Workspace file tools (MCP fs_*)" checked={!!v.workspaceEnabled} disabled={!s.canWrite} onChange={(x) => f.edit({ ...v, workspaceEnabled: x })} />
          {big('workspaceQuotaBytes', 'Workspace quota per owner (bytes)')}
          {big('workspaceMaxFileBytes', 'Largest workspace file (bytes)')}
          <SaveRow error={f.error} saved={f.saved} busy={f.busy} canWrite={s.canWrite} />
        </form>
      )}
    </Card>
  );
}

function ServiceTokensCard() {
  const s = useSession();
  const st = useAsync(() => api.tokens.listServiceTokens({ page: { pageSize: 100 } }), []);
  const [name, setName] = useState('');
  const [scope, setScope] = useState(ServiceTokenScope.READ);
  const [created, setCreated] = useState<CreateServiceTokenResponse>();
  const act = useAction();
  return (
    <Card title="Service tokens">
      <p class="small muted">For tooling: read-only tokens may read what admins read; admin tokens may change everything.</p>
      {s.canWrite && (
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await act.run(() => api.tokens.createServiceToken({ name: name.trim(), scope }));
            if (r) {
              setCreated(r);
              setName('');
              st.reload();
            }
          }}
        >
          <Field label="Service token name">
            {(id) => <input id={id} type="text" required value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />}
          </Field>
          <Field label="Scope">
            {(id) => (
              <select id={id} value={String(scope)} onChange={(e) => setScope(Number((e.currentTarget as HTMLSelectElement).value))}>
                <option value={String(ServiceTokenScope.READ)}>read-only</option>
                <option value={String(ServiceTokenScope.ADMIN)}>admin</option>
              </select>
            )}
          </Field>
          <button type="submit" class="secondary" disabled={act.busy}>
            Create
          </button>
        </form>
      )}
      <ErrorNote message={act.error} />
      {created && <SecretBox label="Service token" value={created.secret} />}
      <AsyncView state={st}>
        {(r) =>
          r.tokens.length === 0 ? (
            <Empty>No service tokens.</Empty>
          ) : (
            <ul class="plain">
              {r.tokens.map((t) => (
                <li key={t.id}>
                  <strong>{t.name}</strong> <code class="small">{t.prefix}…</code>
                  <Badge kind={t.scope === ServiceTokenScope.ADMIN ? 'warn' : 'neutral'}>{t.scope === ServiceTokenScope.ADMIN ? 'admin' : 'read-only'}</Badge>
                  <span class="muted small">
                    used <Rel date={tsDate(t.lastUsedAt)} />
                  </span>
                  {s.canWrite && (
                    <ConfirmButton
                      label="Revoke"
                      class="danger small"
                      title={`Revoke ${t.name}?`}
                      message={<p>Tools using it stop working at once.</p>}
                      confirmLabel="Revoke"
                      danger
                      onConfirm={async () => {
                        await act.run(() => api.tokens.revokeServiceToken({ id: t.id }));
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
    </Card>
  );
}

function PricesCard() {
  const s = useSession();
  const st = useAsync(() => api.usage.listPrices({}), []);
  const act = useAction();
  const [note, setNote] = useState<string>();
  return (
    <Card
      title="Prices (per 1 M tokens)"
      actions={
        s.canWrite && (
          <>
            <button
              type="button"
              class="secondary small"
              disabled={act.busy}
              onClick={async () => {
                const r = await act.run(() => api.usage.syncPricing({}));
                if (r) setNote(`Pulled ${r.added} new price(s).`);
                st.reload();
              }}
            >
              Pull prices now
            </button>
            <button
              type="button"
              class="secondary small"
              disabled={act.busy}
              onClick={async () => {
                const r = await act.run(() => api.usage.recomputeCosts({}));
                if (r) setNote(`Recomputed: ${r.rowsChanged} of ${r.rowsExamined} rows changed.`);
              }}
            >
              Recompute costs
            </button>
          </>
        )
      }
    >
      <ErrorNote message={act.error} />
      {note && <Notice>{note}</Notice>}
      <AsyncView state={st}>
        {(r) =>
          r.prices.length === 0 ? (
            <Empty>No prices: usage is recorded at cost 0.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col" class="num">
                      Input
                    </th>
                    <th scope="col" class="num">
                      Cached
                    </th>
                    <th scope="col" class="num">
                      Output
                    </th>
                    <th scope="col" class="hide-narrow">
                      Since
                    </th>
                    <th scope="col" class="hide-narrow">
                      Source
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.prices.map((p) => (
                    <tr key={p.id}>
                      <td class="wrap">{p.model}</td>
                      <td class="num">{formatCost(p.inputPerMillionMicros, p.currency)}</td>
                      <td class="num">{formatCost(p.cachedInputPerMillionMicros, p.currency)}</td>
                      <td class="num">{formatCost(p.outputPerMillionMicros, p.currency)}</td>
                      <td class="hide-narrow">
                        <Rel date={tsDate(p.effectiveAt)} />
                      </td>
                      <td class="hide-narrow">{PriceSource[p.source]?.toLowerCase() ?? '—'}</td>
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
