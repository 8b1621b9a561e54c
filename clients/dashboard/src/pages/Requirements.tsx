// Config builder, requirements (#/config/requirements): the fleet requirements.toml that Codex
// itself enforces (allowed approval policies, sandbox modes, web-search modes, and free TOML
// blocks), saved with an optimistic lock and checked by the server against what Codex parses,
// its errors shown beside the field they name; and its saved versions, with restore.

import { useEffect, useId, useState } from 'preact/hooks';
import { create } from '@bufbuild/protobuf';
import { api, errorMessage } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, shortDigest, tsDate } from '../lib/format';
import { RequirementsSchema, type Requirements, type RequirementsDocument } from '../gen/codexcentral/config/v1/config_pb';
import { AsyncView, Card, CheckedField, ConfirmButton, Empty, ErrorNote, FieldError, Notice, Pager, Rel, usePager } from '../components/ui';
import { fieldViolations, violationFor, type FieldViolation } from '../lib/violations';
import { VERSION_PAGE, VersionTable, restoreText, writeStatusText } from './ConfigHistory';

// ---- The editor's model

export const APPROVAL_POLICIES = ['untrusted', 'on-failure', 'on-request', 'never'];
export const SANDBOX_MODES = ['read-only', 'workspace-write', 'danger-full-access'];
export const WEB_SEARCH_MODES = ['disabled', 'cached', 'indexed', 'live'];

export interface Draft {
  allowedApprovalPolicies: string[];
  allowedSandboxModes: string[];
  allowedWebSearchModes: string[];
  blocks: { name: string; toml: string }[];
}

type ListKey = 'allowedApprovalPolicies' | 'allowedSandboxModes' | 'allowedWebSearchModes';

export function draftOf(r: Requirements | undefined): Draft {
  return {
    allowedApprovalPolicies: [...(r?.allowedApprovalPolicies ?? [])],
    allowedSandboxModes: [...(r?.allowedSandboxModes ?? [])],
    allowedWebSearchModes: [...(r?.allowedWebSearchModes ?? [])],
    blocks: (r?.freeBlocks ?? []).map((b) => ({ name: b.name, toml: b.toml })),
  };
}

/** The request body; blocks with neither a name nor TOML are left out. */
export function requirementsOf(d: Draft): Requirements {
  const sent = sentBlockIndices(d.blocks);
  return create(RequirementsSchema, {
    allowedApprovalPolicies: d.allowedApprovalPolicies,
    allowedSandboxModes: d.allowedSandboxModes,
    allowedWebSearchModes: d.allowedWebSearchModes,
    freeBlocks: d.blocks.filter((_, i) => sent[i] >= 0).map((b) => ({ name: b.name.trim(), toml: b.toml })),
  });
}

/**
 * Where each editor block lands in the request (blank blocks are left out, so the server's
 * "free_blocks.2" may be the editor's fourth block); -1 for a block that is not sent.
 */
export function sentBlockIndices(blocks: Draft['blocks']): number[] {
  let next = 0;
  return blocks.map((b) => (b.name.trim() || b.toml.trim() ? next++ : -1));
}

/**
 * Ticks or unticks `value`. A ticked value keeps the order of `all`, so ticking in any order
 * saves the same file; values the list already had keep their places.
 */
export function toggled(list: string[], value: string, on: boolean, all: string[]): string[] {
  if (!on) return list.filter((v) => v !== value);
  if (list.includes(value)) return list;
  const rank = all.indexOf(value);
  const at = list.findIndex((v) => all.indexOf(v) > rank);
  return at < 0 ? [...list, value] : [...list.slice(0, at), value, ...list.slice(at)];
}

// ---- The view

export function RequirementsView() {
  const [reloads, setReloads] = useState(0);
  const st = useAsync(() => api.config.getRequirements({}), [reloads]);
  const [doc, setDoc] = useState<RequirementsDocument | null>();
  const [versionsKey, setVersionsKey] = useState(0);
  // Which card says what the last save or restore did.
  const [said, setSaid] = useState<{ text: string; by: 'save' | 'restore' }>();

  useEffect(() => {
    if (st.data) setDoc(st.data.document ?? null);
  }, [st.data]);

  const took = (by: 'save' | 'restore') => (d: RequirementsDocument, text: string) => {
    setDoc(d);
    setSaid({ text, by });
    setVersionsKey((k) => k + 1);
  };

  return (
    <>
      {doc === undefined ? (
        <Card title="Fleet requirements.toml">
          <AsyncView state={st} label="Loading the requirements…">
            {() => null}
          </AsyncView>
        </Card>
      ) : (
        <RequirementsEditor
          key={`${doc?.sha256 ?? 'none'}-${reloads}`}
          doc={doc}
          said={said?.by === 'save' ? said.text : undefined}
          onSaved={took('save')}
          onReload={() => {
            setSaid(undefined);
            setDoc(undefined);
            setReloads((n) => n + 1);
          }}
        />
      )}
      {doc !== undefined && <SavedFileCard doc={doc} />}
      <RequirementsVersions key={versionsKey} current={doc ?? undefined} said={said?.by === 'restore' ? said.text : undefined} onRestored={took('restore')} />
    </>
  );
}

function RequirementsEditor({
  doc,
  said,
  onSaved,
  onReload,
}: {
  doc: RequirementsDocument | null;
  said: string | undefined;
  onSaved: (d: RequirementsDocument, text: string) => void;
  onReload: () => void;
}) {
  const s = useSession();
  const id = useId();
  const [draft, setDraft] = useState<Draft>(() => draftOf(doc?.requirements));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [violations, setViolations] = useState<FieldViolation[]>([]);
  // The block positions of the last request, to put the server's errors on the right block.
  const [sent, setSent] = useState<number[]>([]);
  const ro = !s.canWrite;

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setViolations([]);
    setSent(sentBlockIndices(draft.blocks));
    try {
      const r = await api.config.updateRequirements({ requirements: requirementsOf(draft), expectedSha256: doc?.sha256 ?? '' });
      if (r.document) onSaved(r.document, `${writeStatusText(r.status)} Version ${r.document.version}.`);
    } catch (err) {
      setError(errorMessage(err));
      setViolations(fieldViolations(err));
    } finally {
      setBusy(false);
    }
  };

  const list = (key: ListKey, field: string, legend: string, all: string[], hint: string) => {
    const err = violationFor(violations, `requirements.${field}`);
    return (
      <fieldset class="checks" aria-describedby={`${id}-${key}-hint${err ? ` ${id}-${key}-err` : ''}`}>
        <legend>{legend}</legend>
        <div class="check-row">
          {all.map((v) => (
            <span class="switch-row" key={v}>
              <input
                id={`${id}-${key}-${v}`}
                type="checkbox"
                checked={draft[key].includes(v)}
                disabled={ro}
                onChange={(e) => setDraft({ ...draft, [key]: toggled(draft[key], v, (e.currentTarget as HTMLInputElement).checked, all) })}
              />
              <label for={`${id}-${key}-${v}`}>{v}</label>
            </span>
          ))}
        </div>
        <span id={`${id}-${key}-hint`} class="muted small">
          {hint}
        </span>
        <FieldError id={`${id}-${key}-err`} message={err} />
      </fieldset>
    );
  };

  const setBlock = (i: number, change: Partial<Draft['blocks'][number]>) =>
    setDraft({ ...draft, blocks: draft.blocks.map((b, j) => (j === i ? { ...b, ...change } : b)) });

  return (
    <Card title="Fleet requirements.toml">
      <p class="small muted">
        Codex enforces these on every host (/etc/codex/requirements.toml): a user cannot pick a policy or mode that is not allowed. Nothing ticked leaves that choice open.
      </p>
      <form class="form" onSubmit={save} noValidate>
        {list('allowedApprovalPolicies', 'allowed_approval_policies', 'Allowed approval policies', APPROVAL_POLICIES, 'Codex refuses any other approval policy.')}
        {list('allowedSandboxModes', 'allowed_sandbox_modes', 'Allowed sandbox modes', SANDBOX_MODES, 'Codex refuses any other sandbox mode.')}
        {list('allowedWebSearchModes', 'allowed_web_search_modes', 'Allowed web search modes', WEB_SEARCH_MODES, 'Codex refuses any other web search mode.')}
        <div class="subhead">
          <h3>Free TOML blocks</h3>
          <p class="small muted">Anything else Codex reads from requirements.toml (an MCP server allow-list, pinned features, …), kept verbatim.</p>
        </div>
        {draft.blocks.length === 0 && <Empty>No free blocks.</Empty>}
        {draft.blocks.map((b, i) => {
          const n = i + 1;
          const at = sent[i] ?? -1;
          const nameErr = at < 0 ? undefined : violationFor(violations, `requirements.free_blocks.${at}.name`);
          const tomlErr = at < 0 ? undefined : violationFor(violations, `requirements.free_blocks.${at}.toml`);
          return (
            <fieldset class="checks" key={i}>
              <legend>Block {n}</legend>
              <CheckedField label={`Block ${n} name`} error={nameErr}>
                {(fid, a11y) => (
                  <input id={fid} type="text" autocomplete="off" value={b.name} disabled={ro} {...a11y} onInput={(e) => setBlock(i, { name: (e.currentTarget as HTMLInputElement).value })} />
                )}
              </CheckedField>
              <CheckedField label={`Block ${n} TOML`} error={tomlErr}>
                {(fid, a11y) => (
                  <textarea id={fid} class="mono" rows={6} spellcheck={false} value={b.toml} disabled={ro} {...a11y} onInput={(e) => setBlock(i, { toml: (e.currentTarget as HTMLTextAreaElement).value })} />
                )}
              </CheckedField>
              {!ro && (
                <button type="button" class="secondary small" onClick={() => setDraft({ ...draft, blocks: draft.blocks.filter((_, j) => j !== i) })}>
                  Remove block {n}
                </button>
              )}
            </fieldset>
          );
        })}
        {!ro && (
          <button type="button" class="secondary small" onClick={() => setDraft({ ...draft, blocks: [...draft.blocks, { name: '', toml: '' }] })}>
            Add a TOML block
          </button>
        )}
        <ErrorNote message={error} />
        {said && !error && <Notice kind="ok">{said}</Notice>}
        <div class="button-row">
          {!ro && (
            <button type="submit" class="primary" disabled={busy}>
              Save requirements
            </button>
          )}
          <button type="button" class="secondary" onClick={onReload}>
            Discard changes and reload
          </button>
        </div>
      </form>
    </Card>
  );
}

function SavedFileCard({ doc }: { doc: RequirementsDocument | null }) {
  return (
    <Card title="Saved requirements.toml">
      {!doc ? (
        <Empty>Nothing saved yet: hosts get no requirements.toml.</Empty>
      ) : (
        <>
          <p class="small muted">
            Version {doc.version} · {formatBytes(doc.sizeBytes)} · sha256 <code>{shortDigest(doc.sha256)}</code> · saved <Rel date={tsDate(doc.updatedAt)} />
            {doc.updatedBy && ` by ${doc.updatedBy}`}
            {doc.note && ` · ${doc.note}`}
          </p>
          {doc.content.trim() ? (
            <pre class="code" tabIndex={0} data-testid="requirements-content">
              {doc.content}
            </pre>
          ) : (
            <Empty>The file is empty: Codex enforces nothing.</Empty>
          )}
        </>
      )}
    </Card>
  );
}

function RequirementsVersions({
  current,
  said,
  onRestored,
}: {
  current?: RequirementsDocument;
  said?: string;
  onRestored: (d: RequirementsDocument, text: string) => void;
}) {
  const s = useSession();
  const pager = usePager();
  const st = useAsync(() => api.config.listRequirementsVersions({ page: { pageSize: VERSION_PAGE, pageToken: pager.token } }), [pager.token]);
  const act = useAction();
  return (
    <Card title="Requirements versions">
      <ErrorNote message={act.error} />
      {said && <Notice kind="ok">{said}</Notice>}
      <AsyncView state={st} label="Loading versions…">
        {(r) =>
          r.versions.length === 0 && pager.index === 0 ? (
            <Empty>No version yet.</Empty>
          ) : (
            <VersionTable
              caption="Requirements versions, newest first"
              rows={r.versions}
              current={current?.version}
              actions={(v) =>
                s.canWrite &&
                v.version !== current?.version && (
                  <ConfirmButton
                    label="Restore"
                    class="secondary small"
                    title={`Restore requirements version ${v.version}?`}
                    message={<p>It is saved again as the newest version; every host receives it on its next sync.</p>}
                    confirmLabel="Restore"
                    disabled={act.busy}
                    onConfirm={async () => {
                      const before = current?.version;
                      const res = await act.run(() => api.config.restoreRequirementsVersion({ version: v.version, expectedSha256: current?.sha256 ?? '' }));
                      if (res?.document) onRestored(res.document, restoreText(v.version, before, res.document.version));
                    }}
                  />
                )
              }
            />
          )
        }
      </AsyncView>
      <Pager pager={pager} nextToken={st.data?.nextPageToken} label="Requirements version pages" />
    </Card>
  );
}
