// Config builder: the fleet config.toml template as a form, with a live preview of the file a
// host receives (RenderConfig on every change), inline validation errors and an optimistic-lock
// save; profiles; the AGENTS.md editor; slash-command prompts.

import { useEffect, useState } from 'preact/hooks';
import { create } from '@bufbuild/protobuf';
import { api, errorMessage } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, shortDigest, tsDate } from '../lib/format';
import { ConfigTemplateSchema, ContentWriteStatus, ProposalState, type BakedConfig, type ConfigTemplate } from '../gen/codexcentral/config/v1/config_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Field, Notice, PageHeader, Rel } from '../components/ui';
import { href } from '../lib/route';

const CHOICES: Record<string, string[]> = {
  modelReasoningEffort: ['', 'none', 'minimal', 'low', 'medium', 'high', 'xhigh'],
  approvalPolicy: ['', 'on-failure', 'on-request', 'never'],
  sandboxMode: ['', 'read-only', 'workspace-write', 'danger-full-access'],
  modelReasoningSummary: ['', 'auto', 'concise', 'detailed', 'none'],
  modelVerbosity: ['', 'low', 'medium', 'high'],
  historyPersistence: ['', 'save-all', 'none'],
};

type TextKey = 'model' | 'modelProvider' | 'modelReasoningEffort' | 'approvalPolicy' | 'sandboxMode' | 'modelReasoningSummary' | 'modelVerbosity' | 'historyPersistence';
type TriKey = 'webSearch' | 'sandboxNetworkAccess';

const WRITE_STATUS: Record<number, string> = {
  [ContentWriteStatus.CREATED]: 'Saved (first version).',
  [ContentWriteStatus.UPDATED]: 'Saved.',
  [ContentWriteStatus.UNCHANGED]: 'Nothing changed.',
};

export function ConfigPage() {
  return (
    <div>
      <PageHeader title="Config builder" />
      <TemplateEditor />
      <ProfilesCard />
      <AgentsCard />
      <PromptsCard />
      <ProposalsCard />
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
      setSaved(`${WRITE_STATUS[r.status] ?? 'Saved.'} Version ${r.document.version}.`);
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

function ProfilesCard() {
  const st = useAsync(() => api.config.listProfiles({}), []);
  return (
    <Card title="Profiles">
      <AsyncView state={st}>
        {(r) =>
          r.profiles.length === 0 ? (
            <Empty>No profiles. Hosts use the fleet config.toml only.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Model</th>
                    <th scope="col" class="hide-narrow">
                      Approval
                    </th>
                    <th scope="col" class="hide-narrow">
                      Sandbox
                    </th>
                    <th scope="col">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {r.profiles.map((p) => (
                    <tr key={p.name}>
                      <td>
                        <code>{p.name}</code>
                      </td>
                      <td>{p.model || '—'}</td>
                      <td class="hide-narrow">{p.approvalPolicy || '—'}</td>
                      <td class="hide-narrow">{p.sandboxMode || '—'}</td>
                      <td>
                        <Rel date={tsDate(p.updatedAt)} />
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

function AgentsCard() {
  const s = useSession();
  const st = useAsync(() => api.config.getAgentsDocument({}), []);
  const [text, setText] = useState<string>();
  const [sha, setSha] = useState('');
  const act = useAction();
  const [saved, setSaved] = useState<string>();
  useEffect(() => {
    if (st.data && text === undefined) {
      setText(st.data.document?.content ?? '');
      setSha(st.data.document?.sha256 ?? '');
    }
  }, [st.data]);
  return (
    <Card title="AGENTS.md">
      {text === undefined ? (
        <AsyncView state={st}>{() => null}</AsyncView>
      ) : (
        <form
          class="form"
          onSubmit={async (e) => {
            e.preventDefault();
            setSaved(undefined);
            const r = await act.run(() => api.config.saveAgentsDocument({ content: text, expectedSha256: sha }));
            if (r?.document) {
              setSha(r.document.sha256);
              setSaved(`${WRITE_STATUS[r.status] ?? 'Saved.'} Version ${r.document.version}.`);
            }
          }}
        >
          {st.data?.document && (
            <p class="small muted">
              Version {st.data.document.version} · {formatBytes(st.data.document.sizeBytes)} · updated <Rel date={tsDate(st.data.document.updatedAt)} />
              {st.data.document.updatedBy && ` by ${st.data.document.updatedBy}`}
            </p>
          )}
          <Field label="AGENTS.md content (Markdown)">
            {(id) => <textarea id={id} class="mono" rows={10} value={text} disabled={!s.canWrite} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />}
          </Field>
          <ErrorNote message={act.error} />
          {saved && <Notice kind="ok">{saved}</Notice>}
          {s.canWrite && (
            <button type="submit" class="primary" disabled={act.busy}>
              Save AGENTS.md
            </button>
          )}
        </form>
      )}
    </Card>
  );
}

function PromptsCard() {
  const s = useSession();
  const st = useAsync(() => api.config.listPrompts({}), []);
  const [editing, setEditing] = useState<{ filename: string; description: string; body: string; sha: string; isNew: boolean }>();
  const act = useAction();
  const open = async (filename: string) => {
    const r = await act.run(() => api.config.getPrompt({ filename }));
    if (r?.prompt) setEditing({ filename, description: r.prompt.description, body: r.prompt.body, sha: r.prompt.sha256, isNew: false });
  };
  return (
    <Card
      title="Slash-command prompts"
      actions={
        s.canWrite && (
          <button type="button" class="secondary small" onClick={() => setEditing({ filename: '', description: '', body: '', sha: '', isNew: true })}>
            New prompt
          </button>
        )
      }
    >
      <ErrorNote message={act.error} />
      <AsyncView state={st}>
        {(r) =>
          r.prompts.length === 0 ? (
            <Empty>No prompts yet.</Empty>
          ) : (
            <ul class="plain">
              {r.prompts.map((p) => (
                <li key={p.filename}>
                  <button type="button" class="link" onClick={() => open(p.filename)}>
                    /{p.filename.replace(/\.md$/, '')}
                  </button>{' '}
                  <span class="muted small">
                    {p.description} · <Rel date={tsDate(p.updatedAt)} />
                  </span>
                </li>
              ))}
            </ul>
          )
        }
      </AsyncView>
      {editing && (
        <form
          class="form"
          onSubmit={async (e) => {
            e.preventDefault();
            const r = await act.run(() =>
              api.config.savePrompt({ filename: editing.filename.trim(), body: editing.body, description: editing.description, expectedSha256: editing.sha }),
            );
            if (r) {
              setEditing(undefined);
              st.reload();
            }
          }}
        >
          <Field label="File name">
            {(id) => <input id={id} type="text" required placeholder="review.md" value={editing.filename} disabled={!editing.isNew} onInput={(e) => setEditing({ ...editing, filename: (e.currentTarget as HTMLInputElement).value })} />}
          </Field>
          <Field label="Description">
            {(id) => <input id={id} type="text" value={editing.description} onInput={(e) => setEditing({ ...editing, description: (e.currentTarget as HTMLInputElement).value })} />}
          </Field>
          <Field label="Prompt body (Markdown)">
            {(id) => <textarea id={id} class="mono" rows={8} value={editing.body} onInput={(e) => setEditing({ ...editing, body: (e.currentTarget as HTMLTextAreaElement).value })} />}
          </Field>
          <div class="button-row">
            {s.canWrite && (
              <button type="submit" class="primary" disabled={act.busy}>
                Save prompt
              </button>
            )}
            <button type="button" class="secondary" onClick={() => setEditing(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Card>
  );
}

function ProposalsCard() {
  const s = useSession();
  const st = useAsync(() => api.config.listContentProposals({ state: ProposalState.PENDING, page: { pageSize: 50 } }), []);
  const act = useAction();
  return (
    <Card title="Proposals from hosts">
      <ErrorNote message={act.error} />
      <AsyncView state={st}>
        {(r) =>
          r.proposals.length === 0 ? (
            <Empty>No pending proposals.</Empty>
          ) : (
            <ul class="plain">
              {r.proposals.map((p) => {
                const c = p.content;
                const name = c.case === 'prompt' ? c.value.filename : c.case === 'skill' ? c.value.slug : '?';
                const body = c.case === 'prompt' ? c.value.body : c.case === 'skill' ? c.value.manifest : '';
                return (
                  <li key={p.id}>
                    <Badge>{c.case ?? 'item'}</Badge> <strong>{name}</strong>
                    <span class="small muted">
                      from <a href={href('hosts', p.hostId)}>host {p.hostId}</a> · <Rel date={tsDate(p.createdAt)} />
                      {p.baseSha256 ? ' · edit' : ' · new'}
                    </span>
                    <details>
                      <summary>Content</summary>
                      <pre class="code" tabIndex={0}>{body}</pre>
                    </details>
                    {s.canWrite && (
                      <span class="button-row">
                        <ConfirmButton
                          label="Approve"
                          title={`Apply ${name} fleet-wide?`}
                          message={<p>Every host receives it on its next sync.</p>}
                          confirmLabel="Approve"
                          onConfirm={async () => {
                            await act.run(() => api.config.approveContentProposal({ id: p.id }));
                            st.reload();
                          }}
                        />
                        <ConfirmButton
                          label="Reject"
                          danger
                          title={`Reject ${name}?`}
                          message={<p>The fleet's copy stays as it is.</p>}
                          confirmLabel="Reject"
                          onConfirm={async () => {
                            await act.run(() => api.config.rejectContentProposal({ id: p.id, reason: '' }));
                            st.reload();
                          }}
                        />
                      </span>
                    )}
                  </li>
                );
              })}
            </ul>
          )
        }
      </AsyncView>
    </Card>
  );
}
