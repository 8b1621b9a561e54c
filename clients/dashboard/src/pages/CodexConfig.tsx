// My Codex config: the config a person's own Codex uses with the /v1 gateway. Export (optionally
// with a freshly minted personal token in auth.json), import for safekeeping, history; the
// runtime override (provider + model the gateway uses for me until reset).

import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { tsDate } from '../lib/format';
import { ClientConfigEntryKind, type ExportClientConfigResponse } from '../gen/codexcentral/config/v1/config_pb';
import { AsyncView, Badge, Card, Empty, ErrorNote, Facts, Field, Notice, PageHeader, Rel, SecretBox } from '../components/ui';

const KIND: Record<number, string> = {
  [ClientConfigEntryKind.INITIAL]: 'initial',
  [ClientConfigEntryKind.APPLY]: 'export',
  [ClientConfigEntryKind.RESTORE]: 'restore',
  [ClientConfigEntryKind.IMPORT]: 'import',
};

export function CodexConfigPage() {
  const st = useAsync(() => api.config.getClientConfig({}), []);
  const history = useAsync(() => api.config.listClientConfigHistory({}), []);
  const [bundle, setBundle] = useState<ExportClientConfigResponse>();
  const act = useAction();
  const [mint, setMint] = useState(true);
  const [zipUrl, setZipUrl] = useState<string>();

  const exportNow = async (historyEntryId = '') => {
    setBundle(undefined);
    if (zipUrl) URL.revokeObjectURL(zipUrl);
    setZipUrl(undefined);
    const r = await act.run(async () => {
      if (!mint || historyEntryId) return api.config.exportClientConfig({ historyEntryId, zip: true });
      const t = await api.tokens.createPersonalToken({ name: `codex-config ${new Date().toISOString().slice(0, 16)}` });
      try {
        return await api.config.exportClientConfig({ apiKey: t.secret, zip: true });
      } catch (e) {
        // No export, no use for the token: take it back.
        if (t.token) await api.tokens.revokePersonalToken({ id: t.token.id }).catch(() => undefined);
        throw e;
      }
    });
    if (r) {
      setBundle(r);
      if (r.bundle?.zip.length) setZipUrl(URL.createObjectURL(new Blob([r.bundle.zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' })));
      history.reload();
    }
  };

  return (
    <div>
      <PageHeader title="My Codex config" />
      <div class="grid two">
        <Card title="Current">
          <AsyncView state={st}>
            {(r) =>
              !r.state ? (
                <Empty>No config yet.</Empty>
              ) : (
                <>
                  <Facts
                    items={[
                      ['Provider', r.state.providerId || '—'],
                      ['Model', r.state.model || '—'],
                      ['Base URL', <code>{r.state.baseUrl}</code>],
                    ]}
                  />
                  <details>
                    <summary>config.toml</summary>
                    <pre class="code" tabIndex={0}>{r.state.configToml}</pre>
                  </details>
                </>
              )
            }
          </AsyncView>
          <div class="switch-row">
            <input id="cc-mint" type="checkbox" checked={mint} onChange={(e) => setMint((e.currentTarget as HTMLInputElement).checked)} />
            <label for="cc-mint">Put a new personal token in auth.json</label>
          </div>
          <button type="button" class="primary" disabled={act.busy} onClick={() => exportNow()}>
            Export
          </button>
          <ErrorNote message={act.error} />
        </Card>
        <RuntimeOverrideCard />
      </div>
      {bundle?.bundle && (
        <Card title="Export" class="result">
          <Notice kind="ok">The files below are shown once. apply.sh backs up your current files and writes these with mode 0600.</Notice>
          {zipUrl && (
            <p>
              <a class="button secondary" href={zipUrl} download="codex-config.zip">
                Download all as a zip
              </a>
            </p>
          )}
          <SecretBox label="auth.json" value={bundle.bundle.authJson} />
          <SecretBox label="config.toml" value={bundle.bundle.configToml} />
          <details>
            <summary>apply.sh and apply.ps1</summary>
            <SecretBox label="apply.sh" value={bundle.bundle.applySh} />
            <SecretBox label="apply.ps1" value={bundle.bundle.applyPs1} />
          </details>
        </Card>
      )}
      <Card title="History">
        <AsyncView state={history}>
          {(r) =>
            r.entries.length === 0 ? (
              <Empty>No history yet: your first export is kept as the initial snapshot.</Empty>
            ) : (
              <ul class="plain">
                {r.entries.map((e) => (
                  <li key={e.id}>
                    <Badge>{KIND[e.kind] ?? 'entry'}</Badge> {e.providerId || '—'} / {e.model || '—'}
                    {e.note && <span class="muted"> · {e.note}</span>}
                    <span class="muted small">
                      {' '}
                      · <Rel date={tsDate(e.createdAt)} />
                    </span>
                    <button type="button" class="secondary small" disabled={act.busy} onClick={() => exportNow(e.id)}>
                      Export again
                    </button>
                  </li>
                ))}
              </ul>
            )
          }
        </AsyncView>
      </Card>
      <ImportCard onDone={history.reload} />
    </div>
  );
}

function RuntimeOverrideCard() {
  const st = useAsync(() => Promise.all([api.config.getRuntimeOverride({}), api.config.listModels({})]), []);
  const [model, setModel] = useState('');
  const act = useAction();
  return (
    <Card title="Runtime override">
      <p class="small muted">The gateway answers every /v1 call of yours with this model until you reset it.</p>
      <AsyncView state={st}>
        {([o, m]) => (
          <>
            <p>
              {o.runtimeOverride ? (
                <>
                  Using <strong>{o.runtimeOverride.model}</strong> ({o.runtimeOverride.providerId}) since <Rel date={tsDate(o.runtimeOverride.setAt)} />
                </>
              ) : (
                'No override: the requested model is used.'
              )}
            </p>
            <form
              class="inline-form"
              onSubmit={async (e) => {
                e.preventDefault();
                const pick = m.models.find((x) => x.id === model);
                if (!pick) return;
                await act.run(() => api.config.setRuntimeOverride({ providerId: pick.providerId, model: pick.id }));
                st.reload();
              }}
            >
              <Field label="Model">
                {(id) => (
                  <select id={id} value={model} onChange={(e) => setModel((e.currentTarget as HTMLSelectElement).value)}>
                    <option value="">choose a model</option>
                    {m.models.map((x) => (
                      <option key={x.id} value={x.id}>
                        {x.displayName || x.id} ({x.providerName || x.providerId})
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <button type="submit" class="secondary" disabled={act.busy || !model}>
                Use it
              </button>
              {o.runtimeOverride && (
                <button
                  type="button"
                  class="secondary"
                  disabled={act.busy}
                  onClick={async () => {
                    await act.run(() => api.config.clearRuntimeOverride({}));
                    st.reload();
                  }}
                >
                  Reset
                </button>
              )}
            </form>
          </>
        )}
      </AsyncView>
      <ErrorNote message={act.error} />
    </Card>
  );
}

function ImportCard({ onDone }: { onDone: () => void }) {
  const [f, setF] = useState({ authJson: '', configToml: '', note: '' });
  const act = useAction();
  const [done, setDone] = useState(false);
  return (
    <Card title="Import (archive only)">
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          setDone(false);
          const r = await act.run(() => api.config.importClientConfig({ ...f, providerId: '', model: '' }));
          if (r) {
            setDone(true);
            setF({ authJson: '', configToml: '', note: '' });
            onDone();
          }
        }}
      >
        <div class="row">
          <Field label="auth.json">
            {(id) => <textarea id={id} class="mono" rows={5} value={f.authJson} onInput={(e) => setF({ ...f, authJson: (e.currentTarget as HTMLTextAreaElement).value })} />}
          </Field>
          <Field label="config.toml">
            {(id) => <textarea id={id} class="mono" rows={5} value={f.configToml} onInput={(e) => setF({ ...f, configToml: (e.currentTarget as HTMLTextAreaElement).value })} />}
          </Field>
        </div>
        <Field label="Note">
          {(id) => <input id={id} type="text" value={f.note} onInput={(e) => setF({ ...f, note: (e.currentTarget as HTMLInputElement).value })} />}
        </Field>
        <ErrorNote message={act.error} />
        {done && <Notice kind="ok">Archived (encrypted).</Notice>}
        <button type="submit" class="primary" disabled={act.busy || (!f.authJson.trim() && !f.configToml.trim())}>
          Import
        </button>
      </form>
    </Card>
  );
}
