// Config builder, content (#/config/content): what hosts sync besides config.toml. AGENTS.md
// (editor with an optimistic-lock save, and its saved versions), slash-command prompts (create,
// edit, retire), skills (Skills.tsx) and the prompt/skill proposals hosts pushed for review.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, tsDate } from '../lib/format';
import { ProposalState } from '../gen/codexcentral/config/v1/config_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Field, Notice, Pager, Rel, usePager } from '../components/ui';
import { href } from '../lib/route';
import { VERSION_PAGE, VersionTable, writeStatusText } from './ConfigHistory';
import { SkillsCard } from './Skills';

export function ConfigContent() {
  return (
    <>
      <AgentsCard />
      <PromptsCard />
      <SkillsCard />
      <ProposalsCard />
    </>
  );
}

function AgentsCard() {
  const s = useSession();
  const st = useAsync(() => api.config.getAgentsDocument({}), []);
  const [text, setText] = useState<string>();
  const [sha, setSha] = useState('');
  const act = useAction();
  const [saved, setSaved] = useState<string>();
  // The version in force (for the versions list) and a counter that refreshes that list.
  const [current, setCurrent] = useState<number>();
  const [refresh, setRefresh] = useState(0);
  useEffect(() => {
    if (st.data && text === undefined) {
      setText(st.data.document?.content ?? '');
      setSha(st.data.document?.sha256 ?? '');
      setCurrent(st.data.document?.version);
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
              setSaved(`${writeStatusText(r.status)} Version ${r.document.version}.`);
              setCurrent(r.document.version);
              setRefresh((n) => n + 1);
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
      <AgentsVersions current={current} refresh={refresh} />
    </Card>
  );
}

function AgentsVersions({ current, refresh }: { current?: number; refresh: number }) {
  const pager = usePager();
  const st = useAsync(() => api.config.listAgentsDocumentVersions({ page: { pageSize: VERSION_PAGE, pageToken: pager.token } }), [pager.token, refresh]);
  return (
    <details class="versions">
      <summary>Saved versions of AGENTS.md</summary>
      <AsyncView state={st} label="Loading versions…">
        {(r) =>
          r.versions.length === 0 && pager.index === 0 ? (
            <Empty>No version yet: the first save makes version 1.</Empty>
          ) : (
            <VersionTable caption="AGENTS.md versions, newest first" rows={r.versions} current={current} />
          )
        }
      </AsyncView>
      <Pager pager={pager} nextToken={st.data?.nextPageToken} label="AGENTS.md version pages" />
    </details>
  );
}

function PromptsCard() {
  const s = useSession();
  const st = useAsync(() => api.config.listPrompts({}), []);
  const [editing, setEditing] = useState<{ filename: string; description: string; body: string; sha: string; isNew: boolean }>();
  const act = useAction();
  const [said, setSaid] = useState<string>();
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
      {said && <Notice kind="ok">{said}</Notice>}
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
                  {s.canWrite && (
                    <ConfirmButton
                      label="Retire"
                      class="secondary small"
                      danger
                      title={`Retire /${p.filename.replace(/\.md$/, '')}?`}
                      message={<p>Every host deletes ~/.codex/prompts/{p.filename} on its next sync. Saving a prompt with this file name later brings it back.</p>}
                      confirmLabel="Retire prompt"
                      disabled={act.busy}
                      onConfirm={async () => {
                        setSaid(undefined);
                        const r = await act.run(() => api.config.retirePrompt({ filename: p.filename }));
                        if (r) {
                          setSaid(`Retired /${p.filename.replace(/\.md$/, '')}.`);
                          if (editing?.filename === p.filename) setEditing(undefined);
                        }
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
      {editing && (
        <form
          class="form"
          onSubmit={async (e) => {
            e.preventDefault();
            setSaid(undefined);
            const r = await act.run(() =>
              api.config.savePrompt({ filename: editing.filename.trim(), body: editing.body, description: editing.description, expectedSha256: editing.sha }),
            );
            if (r) {
              setEditing(undefined);
              setSaid(`${writeStatusText(r.status)} /${editing.filename.trim().replace(/\.md$/, '')}.`);
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
