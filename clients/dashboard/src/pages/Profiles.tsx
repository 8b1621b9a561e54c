// Config profiles: named sets of config.toml settings a host can be given (`codex -p name`,
// baked as name.config.toml). Staff see the list; admins create, edit, rename and delete, with
// the server's validation errors shown next to the field they concern.

import { useId, useState } from 'preact/hooks';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { api } from '../lib/api';
import { useAction, useAsync, useFormAction } from '../lib/hooks';
import { useSession } from '../lib/session';
import { tsDate } from '../lib/format';
import { choicesWith } from '../lib/configChoices';
import { errorsByField, type FieldViolation } from '../lib/violations';
import type { Profile } from '../gen/codexcentral/config/v1/config_pb';
import { AsyncView, Badge, Card, CheckedField, ConfirmButton, Empty, ErrorNote, Notice, Rel } from '../components/ui';

/** The editable part of a profile (the generated message minus timestamps). */
export interface ProfileForm {
  name: string;
  model: string;
  modelProvider: string;
  approvalPolicy: string;
  sandboxMode: string;
  modelReasoningEffort: string;
  modelReasoningSummary: string;
  modelVerbosity: string;
  extraToml: string;
}

export const EMPTY_PROFILE: ProfileForm = {
  name: '',
  model: '',
  modelProvider: '',
  approvalPolicy: '',
  sandboxMode: '',
  modelReasoningEffort: '',
  modelReasoningSummary: '',
  modelVerbosity: '',
  extraToml: '',
};

const KEYS = Object.keys(EMPTY_PROFILE) as (keyof ProfileForm)[];

export function profileForm(p: Profile): ProfileForm {
  const f = { ...EMPTY_PROFILE };
  for (const k of KEYS) f[k] = p[k];
  return f;
}

/** What is sent: one-line fields trimmed (a stray space is never meant), TOML verbatim. */
export function profileInput(f: ProfileForm): ProfileForm {
  const out = { ...f };
  for (const k of KEYS) if (k !== 'extraToml') out[k] = f[k].trim();
  return out;
}

export function sameProfile(a: ProfileForm, b: ProfileForm): boolean {
  const x = profileInput(a);
  const y = profileInput(b);
  return KEYS.every((k) => x[k] === y[k]);
}

const stamp = (ts: Timestamp | undefined) => (ts ? `${ts.seconds}.${ts.nanos}` : '');

/**
 * Whether a record changed since the editor loaded it. The proto has no version or digest for
 * profiles and host overrides, so `updated_at` (which the server only moves on a real change)
 * stands in for one.
 */
export function changedSince(loaded: Timestamp | undefined, current: Timestamp | undefined): boolean {
  return stamp(loaded) !== stamp(current);
}

/** Server violations by form field: "profile.extra_toml" → extraToml, "new_name" → newName. */
export function profileErrors(v: FieldViolation[]): Record<string, string> {
  return { ...errorsByField(v, ''), ...errorsByField(v, 'profile.') };
}

type Editing =
  | { mode: 'new' }
  | { mode: 'edit'; name: string; loadedAt?: Timestamp; createdAt?: Timestamp; original: ProfileForm; draft?: ProfileForm };

export function ProfilesCard() {
  const s = useSession();
  const st = useAsync(
    // The default badge is a nicety: a refused settings read must not hide the list.
    () => Promise.all([api.config.listProfiles({}), api.config.getConfigSettings({}).catch(() => undefined)]),
    [],
  );
  const rowAct = useAction();
  const [editing, setEditing] = useState<Editing>();
  const [said, setSaid] = useState<string>();
  const [deleted, setDeleted] = useState<string>();
  const openAct = useAction();

  const open = async (name: string) => {
    setSaid(undefined);
    const r = await openAct.run(() => api.config.getProfile({ name }));
    if (r?.profile) setEditing({ mode: 'edit', name: r.profile.name, loadedAt: r.profile.updatedAt, createdAt: r.profile.createdAt, original: profileForm(r.profile) });
  };

  return (
    <Card
      title="Profiles"
      actions={
        s.canWrite && (
          <button
            type="button"
            class="secondary small"
            onClick={() => {
              setSaid(undefined);
              setEditing({ mode: 'new' });
            }}
          >
            New profile
          </button>
        )
      }
    >
      <ErrorNote message={rowAct.error ?? openAct.error} />
      {deleted && <Notice kind="ok">{deleted}</Notice>}
      <AsyncView state={st}>
        {([r, settings]) =>
          r.profiles.length === 0 ? (
            <Empty>No profiles. Hosts use the fleet config.toml only.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Config profiles</caption>
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
                    <th scope="col" class="hide-narrow">
                      Updated
                    </th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.profiles.map((p) => (
                    <tr key={p.name}>
                      <td>
                        <code>{p.name}</code>
                        {settings?.settings?.defaultProfile === p.name && (
                          <>
                            {' '}
                            <Badge kind="info">fleet default</Badge>
                          </>
                        )}
                      </td>
                      <td>{p.model || '—'}</td>
                      <td class="hide-narrow">{p.approvalPolicy || '—'}</td>
                      <td class="hide-narrow">{p.sandboxMode || '—'}</td>
                      <td class="hide-narrow">
                        <Rel date={tsDate(p.updatedAt)} />
                      </td>
                      <td>
                        <span class="button-row">
                          <button type="button" class="secondary small" aria-label={`${s.canWrite ? 'Edit' : 'View'} profile ${p.name}`} disabled={openAct.busy} onClick={() => open(p.name)}>
                            {s.canWrite ? 'Edit' : 'View'}
                          </button>
                          {s.canWrite && (
                            <ConfirmButton
                              label="Delete"
                              class="danger small"
                              title={`Delete profile ${p.name}?`}
                              message={<p>Hosts stop receiving {p.name}.config.toml on their next sync. Refused while the fleet or a host uses it as its default profile.</p>}
                              confirmLabel="Delete profile"
                              danger
                              disabled={rowAct.busy}
                              onConfirm={async () => {
                                setDeleted(undefined);
                                const ok = await rowAct.run(() => api.config.deleteProfile({ name: p.name }));
                                if (ok) {
                                  if (editing?.mode === 'edit' && editing.name === p.name) setEditing(undefined);
                                  setDeleted(`Deleted profile ${p.name}.`);
                                }
                                st.reload();
                              }}
                            />
                          )}
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </AsyncView>
      {editing && (
        <ProfileEditor
          key={editing.mode === 'edit' ? `edit:${editing.name}:${stamp(editing.loadedAt)}` : 'new'}
          editing={editing}
          canWrite={s.canWrite}
          said={said}
          onClose={() => {
            setSaid(undefined);
            setEditing(undefined);
          }}
          onChanged={(e, message) => {
            setEditing(e);
            setSaid(message);
            st.reload();
          }}
        />
      )}
    </Card>
  );
}

function ProfileEditor({
  editing,
  canWrite,
  said,
  onClose,
  onChanged,
}: {
  editing: Editing;
  canWrite: boolean;
  /** The last change's confirmation, shown where the admin is looking. */
  said?: string;
  onClose: () => void;
  onChanged: (e: Editing, message: string) => void;
}) {
  const isNew = editing.mode === 'new';
  const [f, setF] = useState<ProfileForm>(isNew ? EMPTY_PROFILE : (editing.draft ?? editing.original));
  // The updated_at the next save expects; "Keep mine" after a conflict moves it to theirs.
  const [base, setBase] = useState(isNew ? undefined : editing.loadedAt);
  const [newName, setNewName] = useState(isNew ? '' : editing.name);
  const [conflict, setConflict] = useState<Profile>();
  const [note, setNote] = useState<string>();
  const act = useFormAction(profileErrors, {} as Record<string, string>);
  const { errs, setErrs } = act;
  const headId = useId();

  /** Runs a call; an INVALID_ARGUMENT's violations go next to their fields. */
  const call = <T,>(fn: () => Promise<T>) => {
    setNote(undefined);
    return act.run(fn);
  };

  const edited = (p: Profile): Editing => ({ mode: 'edit', name: p.name, loadedAt: p.updatedAt, createdAt: p.createdAt, original: profileForm(p) });

  const save = async (e: Event) => {
    e.preventDefault();
    if (editing.mode === 'new') {
      const r = await call(() => api.config.createProfile({ profile: profileInput(f) }));
      if (r?.profile) onChanged(edited(r.profile), `Created profile ${r.profile.name}.`);
      return;
    }
    if (sameProfile(f, editing.original)) {
      setNote('Nothing changed.');
      return;
    }
    const r = await call(async () => {
      const cur = await api.config.getProfile({ name: editing.name });
      if (cur.profile && changedSince(base, cur.profile.updatedAt)) return { conflict: cur.profile };
      return { saved: (await api.config.updateProfile({ profile: { ...profileInput(f), name: editing.name } })).profile };
    });
    if (r?.conflict) setConflict(r.conflict);
    else if (r?.saved) onChanged(edited(r.saved), `Saved profile ${r.saved.name}.`);
  };

  const rename = async (e: Event) => {
    e.preventDefault();
    if (editing.mode !== 'edit') return;
    const r = await call(() => api.config.renameProfile({ name: editing.name, newName: newName.trim() }));
    // Unsaved edits to the other fields survive the rename (they are still unsaved).
    if (r?.profile) {
      const next = edited(r.profile);
      if (next.mode === 'edit' && !sameProfile(f, editing.original)) next.draft = { ...f, name: r.profile.name };
      onChanged(next, `Renamed profile ${editing.name} to ${r.profile.name}; the host overrides and fleet default that named it follow.`);
    }
  };

  const ro = !canWrite;
  // An edited field's server error is stale: drop it until the next save says otherwise.
  const set = (k: keyof ProfileForm) => (e: Event) => {
    setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });
    if (errs[k]) setErrs({ ...errs, [k]: '' });
  };
  const text = (k: 'name' | 'model' | 'modelProvider', label: string, hint?: string) => (
    <CheckedField label={label} error={errs[k]} hint={hint}>
      {(id, a11y) => <input id={id} type="text" autocomplete="off" spellcheck={false} value={f[k]} disabled={ro || (k === 'name' && !isNew)} required={k === 'name'} onInput={set(k)} {...a11y} />}
    </CheckedField>
  );
  const choice = (k: 'approvalPolicy' | 'sandboxMode' | 'modelReasoningEffort' | 'modelReasoningSummary' | 'modelVerbosity', label: string) => (
    <CheckedField label={label} error={errs[k]}>
      {(id, a11y) => (
        <select id={id} value={f[k]} disabled={ro} onChange={set(k)} {...a11y}>
          {choicesWith(k, f[k]).map((v) => (
            <option key={v} value={v}>
              {v || '(not set)'}
            </option>
          ))}
        </select>
      )}
    </CheckedField>
  );

  return (
    <div class="profile-editor" role="group" aria-labelledby={headId}>
      <h3 id={headId}>{isNew ? 'New profile' : `${canWrite ? 'Edit' : 'View'} profile ${editing.name}`}</h3>
      {editing.mode === 'edit' && (
        <p class="small muted">
          Created <Rel date={tsDate(editing.createdAt)} /> · updated <Rel date={tsDate(editing.loadedAt)} /> · baked as <code>{editing.name}.config.toml</code>
        </p>
      )}
      <form class="form" onSubmit={save}>
        {isNew && text('name', 'Profile name', 'A-Z, a-z, 0-9, _ and -; becomes name.config.toml and codex -p name')}
        <div class="row">
          {text('model', 'Model')}
          {text('modelProvider', 'Model provider')}
        </div>
        <div class="row">
          {choice('modelReasoningEffort', 'Reasoning effort')}
          {choice('modelReasoningSummary', 'Reasoning summary')}
        </div>
        <div class="row">
          {choice('approvalPolicy', 'Approval policy')}
          {choice('sandboxMode', 'Sandbox mode')}
        </div>
        <div class="row">{choice('modelVerbosity', 'Verbosity')}</div>
        <CheckedField label="Profile extra TOML (appended verbatim)" error={errs.extraToml} hint="Empty fields are left out: the fleet config.toml's value applies.">
          {(id, a11y) => <textarea id={id} class="mono" rows={5} spellcheck={false} value={f.extraToml} disabled={ro} onInput={set('extraToml')} {...a11y} />}
        </CheckedField>
        {conflict && (
          <div class="notice warn" role="alert">
            <p>
              Someone changed this profile <Rel date={tsDate(conflict.updatedAt)} /> after you opened it. Saving would overwrite their change.
            </p>
            <div class="button-row">
              <button type="button" class="secondary small" onClick={() => onChanged(edited(conflict), `Loaded the current ${conflict.name}; your edits were discarded.`)}>
                Load their version
              </button>
              <button
                type="button"
                class="secondary small"
                onClick={() => {
                  setBase(conflict.updatedAt);
                  setConflict(undefined);
                }}
              >
                Keep mine
              </button>
            </div>
          </div>
        )}
        <ErrorNote message={act.error} />
        {note && <Notice>{note}</Notice>}
        {said && !note && !act.error && <Notice kind="ok">{said}</Notice>}
        <div class="button-row">
          {canWrite && (
            <button type="submit" class="primary" disabled={act.busy || !!conflict}>
              {isNew ? 'Create profile' : 'Save profile'}
            </button>
          )}
          <button type="button" class="secondary" onClick={onClose}>
            {isNew ? 'Cancel' : 'Close'}
          </button>
        </div>
      </form>
      {canWrite && editing.mode === 'edit' && (
        <form class="inline-form" onSubmit={rename}>
          <CheckedField label="Rename to" error={errs.newName}>
            {(id, a11y) => (
              <input
                id={id}
                type="text"
                autocomplete="off"
                spellcheck={false}
                required
                value={newName}
                onInput={(e) => {
                  setNewName((e.currentTarget as HTMLInputElement).value);
                  if (errs.newName) setErrs({ ...errs, newName: '' });
                }}
                {...a11y}
              />
            )}
          </CheckedField>
          <button type="submit" class="secondary" disabled={act.busy || !newName.trim() || newName.trim() === editing.name}>
            Rename profile
          </button>
        </form>
      )}
    </div>
  );
}
