// Config builder: the fleet config.toml template as a form, with a live preview of the file a
// host receives (RenderConfig on every change), inline validation errors and an optimistic-lock
// save; profiles. Its other sections are sub-views under #/config/…: version history
// (ConfigHistory.tsx), requirements.toml (Requirements.tsx) and the synced content: AGENTS.md,
// prompts, skills and host proposals (ConfigContent.tsx).

import { useEffect, useState } from 'preact/hooks';
import { create } from '@bufbuild/protobuf';
import { api, errorMessage } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, shortDigest } from '../lib/format';
import { ConfigTemplateSchema, type BakedConfig, type ConfigTemplate } from '../gen/codexcentral/config/v1/config_pb';
import { AsyncView, Card, Empty, ErrorNote, Field, Notice, PageHeader } from '../components/ui';
import { href, type Route } from '../lib/route';
import { CHOICES } from '../lib/configChoices';
import { ProfilesCard } from './Profiles';
import { ConfigHistory, writeStatusText } from './ConfigHistory';
import { RequirementsView } from './Requirements';
import { ConfigContent } from './ConfigContent';

/** The sub-views, by the path segment after #/config ("" is the template). */
export const CONFIG_SECTIONS: { key: string; label: string }[] = [
  { key: '', label: 'Template & profiles' },
  { key: 'history', label: 'Version history' },
  { key: 'requirements', label: 'Requirements' },
  { key: 'content', label: 'AGENTS.md, prompts & skills' },
];

/** The section a route names, or `undefined` for one that does not exist. */
export function configSection(rest: string[]): string | undefined {
  if (rest.length > 1) return undefined;
  const key = rest[0] ?? '';
  return CONFIG_SECTIONS.some((s) => s.key === key) ? key : undefined;
}


type TextKey = 'model' | 'modelProvider' | 'modelReasoningEffort' | 'approvalPolicy' | 'sandboxMode' | 'modelReasoningSummary' | 'modelVerbosity' | 'historyPersistence';
type TriKey = 'webSearch' | 'sandboxNetworkAccess';

export function ConfigPage({ route }: { route?: Route }) {
  const section = configSection(route?.rest ?? []);
  return (
    <div>
      <PageHeader title="Config builder" />
      <nav aria-label="Config sections" class="section-tabs">
        <ul>
          {CONFIG_SECTIONS.map((s) => (
            <li key={s.key}>
              <a href={href('config', s.key)} aria-current={section === s.key ? 'page' : undefined}>
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {section === '' && (
        <>
          <TemplateEditor />
          <ProfilesCard />
        </>
      )}
      {section === 'history' && <ConfigHistory />}
      {section === 'requirements' && <RequirementsView />}
      {section === 'content' && <ConfigContent />}
      {section === undefined && (
        <Card>
          <Empty>
            There is no such section of the config builder. <a href={href('config')}>Back to the template</a>.
          </Empty>
        </Card>
      )}
    </div>
  );
}

function TemplateEditor() {
  const s = useSession();
  const st = useAsync(() => api.config.getConfigTemplate({}), []);
  const [tpl, setTpl] = useState<ConfigTemplate>();
  const [sha, setSha] = useState('');
  const [extra, setExtra] = useState('');
  const [hostId, setHostId] = useState('');
  const [preview, setPreview] = useState<BakedConfig>();
  const [previewError, setPreviewError] = useState<string>();
  const [rendering, setRendering] = useState(false);
  const act = useAction();
  const [saved, setSaved] = useState<string>();

  useEffect(() => {
    if (!st.data || tpl) return;
    const doc = st.data.document;
    const t = doc?.template ?? create(ConfigTemplateSchema, {});
    setTpl(t);
    setSha(doc?.sha256 ?? '');
    setExtra(t.freeBlocks.find((b) => b.name === 'dashboard')?.toml ?? '');
  }, [st.data]);

  const withExtra = (t: ConfigTemplate): ConfigTemplate => {
    const others = t.freeBlocks.filter((b) => b.name !== 'dashboard');
    const blocks = extra.trim() ? [...others, { $typeName: 'codexcentral.config.v1.FreeTomlBlock' as const, name: 'dashboard', toml: extra }] : others;
    return { ...t, freeBlocks: blocks };
  };

  // Live preview: render the unsaved template 300 ms after the last change.
  useEffect(() => {
    if (!tpl) return;
    let stale = false;
    const t = window.setTimeout(async () => {
      setRendering(true);
      try {
        const r = await api.config.renderConfig({ template: withExtra(tpl), hostId: hostId.trim() });
        if (!stale) {
          setPreview(r.config);
          setPreviewError(undefined);
        }
      } catch (e) {
        if (!stale) setPreviewError(errorMessage(e));
      } finally {
        if (!stale) setRendering(false);
      }
    }, 300);
    return () => {
      stale = true;
      window.clearTimeout(t);
    };
  }, [tpl, extra, hostId]);

  if (!tpl) return <AsyncView state={st} label="Loading the template…">{() => null}</AsyncView>;

  const text = (key: TextKey, label: string) => (
    <Field label={label}>
      {(id) =>
        CHOICES[key] ? (
          <select id={id} value={tpl[key]} disabled={!s.canWrite} onChange={(e) => setTpl({ ...tpl, [key]: (e.currentTarget as HTMLSelectElement).value })}>
            {CHOICES[key].map((v) => (
              <option key={v} value={v}>
                {v || '(not set)'}
              </option>
            ))}
          </select>
        ) : (
          <input id={id} type="text" value={tpl[key]} disabled={!s.canWrite} onInput={(e) => setTpl({ ...tpl, [key]: (e.currentTarget as HTMLInputElement).value })} />
        )
      }
    </Field>
  );
  const tri = (key: TriKey, label: string) => (
    <Field label={label}>
      {(id) => (
        <select
          id={id}
          value={tpl[key] === undefined ? '' : String(tpl[key])}
          disabled={!s.canWrite}
          onChange={(e) => {
            const v = (e.currentTarget as HTMLSelectElement).value;
            setTpl({ ...tpl, [key]: v === '' ? undefined : v === 'true' });
          }}
        >
          <option value="">(not set)</option>
          <option value="true">on</option>
          <option value="false">off</option>
        </select>
      )}
    </Field>
  );

  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(undefined);
    const r = await act.run(() => api.config.updateConfigTemplate({ template: withExtra(tpl), expectedSha256: sha }));
    if (r?.document) {
      setSha(r.document.sha256);
      setSaved(`${writeStatusText(r.status)} Version ${r.document.version}.`);
    }
  };

  return (
    <div class="grid two builder">
      <Card title="Fleet config.toml">
        <form class="form" onSubmit={save}>
          <div class="row">
            {text('model', 'Model')}
            {text('modelProvider', 'Model provider')}
          </div>
          <div class="row">
            {text('modelReasoningEffort', 'Reasoning effort')}
            {text('modelReasoningSummary', 'Reasoning summary')}
          </div>
          <div class="row">
            {text('approvalPolicy', 'Approval policy')}
            {text('sandboxMode', 'Sandbox mode')}
          </div>
          <div class="row">
            {text('modelVerbosity', 'Verbosity')}
            {text('historyPersistence', 'History')}
          </div>
          <div class="row">
            {tri('webSearch', 'Web search tool')}
            {tri('sandboxNetworkAccess', 'Sandbox network access')}
          </div>
          <Field label="Extra TOML (appended verbatim)" hint="Checked as you type: errors show under the preview.">
            {(id) => <textarea id={id} class="mono" rows={6} spellcheck={false} value={extra} disabled={!s.canWrite} onInput={(e) => setExtra((e.currentTarget as HTMLTextAreaElement).value)} />}
          </Field>
          <Field label="Preview for host id (optional)">
            {(id) => <input id={id} type="text" placeholder="no host overrides" value={hostId} onChange={(e) => setHostId((e.currentTarget as HTMLInputElement).value)} />}
          </Field>
          <ErrorNote message={act.error} />
          {saved && <Notice kind="ok">{saved}</Notice>}
          {s.canWrite && (
            <button type="submit" class="primary" disabled={act.busy || !!previewError}>
              Save template
            </button>
          )}
        </form>
      </Card>
      <Card title="Preview: the baked config.toml">
        <div aria-live="polite">
          {previewError ? (
            <div class="state error" role="alert" data-testid="preview-error">
              {previewError}
            </div>
          ) : null}
        </div>
        {preview ? (
          <>
            <p class="small muted">
              {formatBytes(preview.sizeBytes)} · sha256 <code>{shortDigest(preview.sha256)}</code>
              {rendering && ' · updating…'}
            </p>
            <pre class="code" tabIndex={0} data-testid="config-preview">
              {preview.content}
            </pre>
            {preview.profiles.map((p) => (
              <details key={p.name}>
                <summary>{p.filename}</summary>
                <pre class="code" tabIndex={0}>{p.content}</pre>
              </details>
            ))}
          </>
        ) : (
          !previewError && <p class="muted">Rendering…</p>
        )}
      </Card>
    </div>
  );
}
