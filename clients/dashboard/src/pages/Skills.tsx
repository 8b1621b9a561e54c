// Config builder, skills (on #/config/content): the fleet's Codex skills
// (~/.codex/skills/<slug>/SKILL.md plus optional files) listed, opened, created, edited and
// retired. Text files are edited in place; binary files (uploaded, or saved by a host) are kept
// as they are, or removed.

import { useId, useState } from 'preact/hooks';
import { api, errorMessage } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, shortDigest, tsDate } from '../lib/format';
import type { Skill, SkillFile } from '../gen/codexcentral/config/v1/config_pb';
import { AsyncView, Badge, Card, CheckedField, ConfirmButton, Empty, ErrorNote, FieldError, Notice, Rel, Switch } from '../components/ui';
import { writeStatusText } from './ConfigHistory';
import { fieldViolations, violationFor, type FieldViolation } from '../lib/violations';

/** A file in the editor: `text` when it is editable UTF-8, else its bytes as they are. */
export interface FileDraft {
  path: string;
  text?: string;
  bytes?: Uint8Array;
}

export interface SkillDraft {
  slug: string;
  displayName: string;
  description: string;
  manifest: string;
  files: FileDraft[];
  /** The digest the editor started from (the optimistic lock); empty for a new skill. */
  sha256: string;
}

/** The text of `bytes` when they are UTF-8 without NUL bytes (so a textarea can edit them). */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function fileDrafts(files: SkillFile[]): FileDraft[] {
  return files.map((f) => {
    const text = decodeText(f.content);
    return text === undefined ? { path: f.path, bytes: f.content } : { path: f.path, text };
  });
}

/** What SaveSkill gets: paths trimmed, text encoded, rows with neither path nor content left out. */
export function filesToSave(files: FileDraft[]): { path: string; content: Uint8Array }[] {
  const enc = new TextEncoder();
  return files
    .filter((f) => f.path.trim() || f.text || f.bytes?.length)
    .map((f) => ({ path: f.path.trim(), content: f.bytes ?? enc.encode(f.text ?? '') }));
}

export function fileSize(f: FileDraft): number {
  return f.bytes ? f.bytes.length : new TextEncoder().encode(f.text ?? '').length;
}

/** A SKILL.md to start from: the front matter Codex lists skills by is required. */
export function skillTemplate(slug: string): string {
  const name = slug.trim() || 'my-skill';
  return `---\nname: ${name}\ndescription: What the skill does and when Codex should use it.\n---\n\n# ${name}\n\nSteps for Codex to follow.\n`;
}

/**
 * The `key: value` pairs of a leading `---` front matter block (flat, quotes removed), as the
 * server reads SKILL.md; empty when there is none.
 */
export function frontMatter(text: string): Record<string, string> {
  const lines = text.split(/\r?\n/);
  // No prototype: a key such as "constructor" is just a key.
  const out: Record<string, string> = Object.create(null);
  if (lines[0]?.trimEnd() !== '---') return out;
  for (const line of lines.slice(1)) {
    if (line.trimEnd() === '---') return out;
    const at = line.indexOf(':');
    const key = line.slice(0, at).trim();
    // The first value of a key counts, as on the server.
    if (at >= 0 && !(key in out)) out[key] = line.slice(at + 1).trim().replace(/^(["'])(.*)\1$/, '$2');
  }
  return {};
}

/**
 * A saved skill as a draft. A display name or description the server copied from SKILL.md is
 * left blank, so it follows the next edit of SKILL.md instead of pinning the old text.
 */
export function draftOfSkill(s: Skill): SkillDraft {
  const fm = frontMatter(s.manifest);
  return {
    slug: s.slug,
    displayName: s.displayName === fm.name ? '' : s.displayName,
    description: s.description === fm.description ? '' : s.description,
    manifest: s.manifest,
    files: fileDrafts(s.files),
    sha256: s.sha256,
  };
}

const NEW_SKILL: SkillDraft = { slug: '', displayName: '', description: '', manifest: skillTemplate(''), files: [], sha256: '' };

export function SkillsCard() {
  const s = useSession();
  const [retired, setRetired] = useState(false);
  const st = useAsync(() => api.config.listSkills({ includeRetired: retired }), [retired]);
  const [editing, setEditing] = useState<{ draft: SkillDraft; isNew: boolean }>();
  const act = useAction();
  const [said, setSaid] = useState<string>();

  const open = async (slug: string) => {
    setSaid(undefined);
    const r = await act.run(() => api.config.getSkill({ slug }));
    if (r?.skill) setEditing({ draft: draftOfSkill(r.skill), isNew: false });
  };

  return (
    <Card
      title="Skills"
      actions={
        s.canWrite && (
          <button
            type="button"
            class="secondary small"
            onClick={() => {
              setSaid(undefined);
              setEditing({ draft: { ...NEW_SKILL }, isNew: true });
            }}
          >
            New skill
          </button>
        )
      }
    >
      <Switch label="Show retired skills" checked={retired} onChange={setRetired} />
      <ErrorNote message={act.error} />
      {said && <Notice kind="ok">{said}</Notice>}
      <AsyncView state={st} label="Loading skills…">
        {(r) =>
          r.skills.length === 0 ? (
            <Empty>No skills yet.</Empty>
          ) : (
            <ul class="plain">
              {r.skills.map((k) => (
                <li key={k.slug}>
                  {k.deletedAt ? (
                    <>
                      <code>{k.slug}</code> <Badge kind="warn">retired</Badge>
                    </>
                  ) : (
                    <button type="button" class="link" aria-label={`Open skill ${k.slug}`} onClick={() => open(k.slug)}>
                      {k.slug}
                    </button>
                  )}
                  <span class="muted small">
                    {k.displayName && k.displayName !== k.slug ? `${k.displayName} · ` : ''}
                    {k.description} · <Rel date={tsDate(k.updatedAt)} />
                    {k.updatedBy && ` by ${k.updatedBy}`}
                  </span>
                  {s.canWrite && !k.deletedAt && (
                    <ConfirmButton
                      label="Retire"
                      class="secondary small"
                      danger
                      title={`Retire skill ${k.slug}?`}
                      message={<p>Every host deletes ~/.codex/skills/{k.slug}/ on its next sync. Saving a skill with this name later brings it back.</p>}
                      confirmLabel="Retire skill"
                      disabled={act.busy}
                      onConfirm={async () => {
                        setSaid(undefined);
                        const res = await act.run(() => api.config.retireSkill({ slug: k.slug }));
                        if (res) {
                          setSaid(`Retired skill ${k.slug}.`);
                          if (editing?.draft.slug === k.slug) setEditing(undefined);
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
        <SkillEditor
          key={`${editing.draft.slug}-${editing.draft.sha256}-${editing.isNew}`}
          initial={editing.draft}
          isNew={editing.isNew}
          onCancel={() => setEditing(undefined)}
          onSaved={(text) => {
            setEditing(undefined);
            setSaid(text);
            st.reload();
          }}
        />
      )}
    </Card>
  );
}

function SkillEditor({ initial, isNew, onCancel, onSaved }: { initial: SkillDraft; isNew: boolean; onCancel: () => void; onSaved: (text: string) => void }) {
  const s = useSession();
  const id = useId();
  const [d, setD] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [violations, setViolations] = useState<FieldViolation[]>([]);
  const ro = !s.canWrite;

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setViolations([]);
    try {
      const r = await api.config.saveSkill({
        slug: d.slug.trim(),
        manifest: d.manifest,
        files: filesToSave(d.files),
        displayName: d.displayName.trim(),
        description: d.description.trim(),
        expectedSha256: d.sha256,
      });
      onSaved(`${writeStatusText(r.status)} Skill ${r.skill?.slug ?? d.slug} (sha256 ${shortDigest(r.skill?.sha256 ?? '')}).`);
    } catch (err) {
      setError(errorMessage(err));
      setViolations(fieldViolations(err));
    } finally {
      setBusy(false);
    }
  };

  const upload = async (input: HTMLInputElement) => {
    const picked = Array.from(input.files ?? []);
    const added: FileDraft[] = [];
    for (const f of picked) {
      const bytes = new Uint8Array(await f.arrayBuffer());
      const text = decodeText(bytes);
      added.push(text === undefined ? { path: f.name, bytes } : { path: f.name, text });
    }
    input.value = '';
    setD((cur) => ({ ...cur, files: [...cur.files, ...added] }));
  };

  const setFile = (i: number, change: Partial<FileDraft>) => setD({ ...d, files: d.files.map((f, j) => (j === i ? { ...f, ...change } : f)) });

  // One text control with its label, hint and the server's error for `field`.
  const line = (key: 'slug' | 'displayName' | 'description', label: string, field: string, hint?: string, disabled = ro) => (
    <CheckedField label={label} error={violationFor(violations, field)} hint={hint}>
      {(fid, a11y) => (
        <input id={fid} type="text" autocomplete="off" required={key === 'slug'} value={d[key]} disabled={disabled} {...a11y} onInput={(e) => setD({ ...d, [key]: (e.currentTarget as HTMLInputElement).value })} />
      )}
    </CheckedField>
  );

  const manifestErr = violationFor(violations, 'manifest');
  const filesErr = violations.find((v) => v.field === 'files')?.description;
  return (
    <form class="form skill-editor" onSubmit={save} noValidate aria-label={isNew ? 'New skill' : `Skill ${initial.slug}`}>
      <h3>{isNew ? 'New skill' : `Skill ${initial.slug}`}</h3>
      {!isNew && (
        <p class="small muted">
          sha256 <code>{shortDigest(initial.sha256)}</code> · {initial.files.length} extra file{initial.files.length === 1 ? '' : 's'}
        </p>
      )}
      <div class="row">
        {line('slug', 'Skill folder (slug)', 'slug', 'Letters, digits, ".", "_" or "-": ~/.codex/skills/<slug>/', !isNew || ro)}
        {line('displayName', 'Display name', 'display_name', 'Blank: the name in SKILL.md.')}
      </div>
      {line('description', 'Skill description', 'description', 'Blank: the description in SKILL.md.')}
      <CheckedField label="SKILL.md (Markdown with front matter)" error={manifestErr}>
        {(fid, a11y) => (
          <textarea id={fid} class="mono" rows={10} spellcheck={false} value={d.manifest} disabled={ro} {...a11y} onInput={(e) => setD({ ...d, manifest: (e.currentTarget as HTMLTextAreaElement).value })} />
        )}
      </CheckedField>
      <fieldset class="checks" aria-describedby={filesErr ? `${id}-files-err` : undefined}>
        <legend>Extra files</legend>
        {d.files.length === 0 && <Empty>SKILL.md only.</Empty>}
        {d.files.map((f, i) => {
          const n = i + 1;
          const pathErr = violationFor(violations, `files.${i}.path`);
          const contentErr = violationFor(violations, `files.${i}.content`) ?? violationFor(violations, `files.${i}.sha256`);
          return (
            <div class="skill-file" key={i}>
              <CheckedField label={`File ${n} path`} error={pathErr}>
                {(fid, a11y) => (
                  <input id={fid} type="text" autocomplete="off" placeholder="scripts/run.sh" value={f.path} disabled={ro} {...a11y} onInput={(e) => setFile(i, { path: (e.currentTarget as HTMLInputElement).value })} />
                )}
              </CheckedField>
              {f.bytes ? (
                <p class="small muted">Binary file, {formatBytes(f.bytes.length)}: kept as it is.</p>
              ) : (
                <div class="field">
                  <label for={`${id}-f${i}-text`}>File {n} content</label>
                  <textarea
                    id={`${id}-f${i}-text`}
                    class="mono"
                    rows={5}
                    spellcheck={false}
                    value={f.text ?? ''}
                    disabled={ro}
                    aria-invalid={contentErr ? true : undefined}
                    aria-describedby={contentErr ? `${id}-f${i}-text-err` : undefined}
                    onInput={(e) => setFile(i, { text: (e.currentTarget as HTMLTextAreaElement).value })}
                  />
                  <span class="muted small">{formatBytes(fileSize(f))}</span>
                </div>
              )}
              <FieldError id={`${id}-f${i}-text-err`} message={contentErr} />
              {!ro && (
                <button type="button" class="secondary small" onClick={() => setD({ ...d, files: d.files.filter((_, j) => j !== i) })}>
                  Remove file {n}
                </button>
              )}
            </div>
          );
        })}
        <FieldError id={`${id}-files-err`} message={filesErr} />
        {!ro && (
          <div class="inline-form">
            <button type="button" class="secondary small" onClick={() => setD({ ...d, files: [...d.files, { path: '', text: '' }] })}>
              Add a text file
            </button>
            <div class="field">
              <label for={`${id}-upload`}>Upload files</label>
              <input id={`${id}-upload`} type="file" multiple onChange={(e) => upload(e.currentTarget as HTMLInputElement)} />
            </div>
          </div>
        )}
      </fieldset>
      <ErrorNote message={error} />
      <div class="button-row">
        {!ro && (
          <button type="submit" class="primary" disabled={busy}>
            Save skill
          </button>
        )}
        <button type="button" class="secondary" onClick={onCancel}>
          {ro ? 'Close' : 'Cancel'}
        </button>
      </div>
    </form>
  );
}
