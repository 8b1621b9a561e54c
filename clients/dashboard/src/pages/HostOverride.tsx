// One host's config override (on the host page): an extra config.toml block merged into the
// file the host receives, its default profile and an extra requirements.toml block. Admins set,
// replace and remove it; everyone on the page sees a live preview of the config.toml the host
// receives with the edit applied (RenderConfig with the draft override and the host's model
// overrides), and the server's errors next to their fields.

import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage } from '../lib/api';
import { useAsync, useFormAction } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, shortDigest, tsDate } from '../lib/format';
import { errorsByField, fieldViolations, type FieldViolation } from '../lib/violations';
import type { BakedConfig, ConfigTemplate, HostConfigOverride } from '../gen/codexcentral/config/v1/config_pb';
import { AsyncView, Card, CheckedField, ConfirmButton, ErrorNote, Notice, Rel } from '../components/ui';
import { changedSince } from './Profiles';

export interface OverrideForm {
  extraToml: string;
  defaultProfile: string;
  requirementsToml: string;
}

export const EMPTY_OVERRIDE: OverrideForm = { extraToml: '', defaultProfile: '', requirementsToml: '' };

export function overrideForm(o: HostConfigOverride | undefined): OverrideForm {
  return o ? { extraToml: o.extraToml, defaultProfile: o.defaultProfile, requirementsToml: o.requirementsToml } : { ...EMPTY_OVERRIDE };
}

export function sameOverride(a: OverrideForm, b: OverrideForm): boolean {
  return a.extraToml === b.extraToml && a.defaultProfile.trim() === b.defaultProfile.trim() && a.requirementsToml === b.requirementsToml;
}

/** Server violations by form field: "host_override.extra_toml" → extraToml. */
export function overrideErrors(v: FieldViolation[]): Record<string, string> {
  return errorsByField(v, 'host_override.');
}

/** A preview failure's violation of the override's own TOML (the admin's to fix). */
export function previewError(v: FieldViolation[]): string | undefined {
  return v.find((x) => x.field === 'host_override.extra_toml')?.description;
}

/** The profile cdx selects when the user names none: the host's, else the fleet's. */
export function effectiveProfile(hostDefault: string, fleetDefault: string): string {
  return hostDefault.trim() || fleetDefault;
}

export function HostOverrideCard({ hostId }: { hostId: string }) {
  const st = useAsync(
    () =>
      Promise.all([
        api.config.getHostConfigOverride({ hostId }),
        api.config.listProfiles({}),
        // Only names the fleet default in a label: a refused read must not hide the card.
        api.config.getConfigSettings({}).catch(() => undefined),
      ]),
    [hostId],
  );
  return (
    <Card title="Config override" class="span-2">
      <AsyncView state={st} label="Loading the config override…">
        {([o, p, settings]) => (
          <OverrideEditor key={hostId} hostId={hostId} initial={o.hostOverride} profiles={p.profiles.map((x) => x.name)} fleetDefault={settings?.settings?.defaultProfile ?? ''} />
        )}
      </AsyncView>
    </Card>
  );
}

function OverrideEditor({
  hostId,
  initial,
  profiles,
  fleetDefault,
}: {
  hostId: string;
  initial: HostConfigOverride | undefined;
  profiles: string[];
  fleetDefault: string;
}) {
  const s = useSession();
  const [saved, setSaved] = useState(initial);
  const [f, setF] = useState<OverrideForm>(() => overrideForm(initial));
  const [liveErr, setLiveErr] = useState<string>();
  const [conflict, setConflict] = useState<HostConfigOverride | null>();
  const [said, setSaid] = useState<string>();
  const act = useFormAction(overrideErrors, {} as Record<string, string>);
  const { errs, setErrs } = act;
  const ro = !s.canWrite;

  const call = <T,>(fn: () => Promise<T>) => {
    setSaid(undefined);
    return act.run(fn);
  };

  const save = async (e: Event) => {
    e.preventDefault();
    const r = await call(async () => {
      // No version field on overrides: updated_at is the optimistic-lock value (see changedSince).
      const cur = (await api.config.getHostConfigOverride({ hostId })).hostOverride;
      if (changedSince(saved?.updatedAt, cur?.updatedAt)) return { conflict: cur ?? null };
      const body = { hostId, extraToml: f.extraToml, defaultProfile: f.defaultProfile.trim(), requirementsToml: f.requirementsToml };
      return { saved: (await api.config.setHostConfigOverride({ hostOverride: body })).hostOverride };
    });
    if (r && 'conflict' in r) setConflict(r.conflict);
    else if (r?.saved) {
      setSaved(r.saved);
      setF(overrideForm(r.saved));
      setSaid(saved ? 'Override replaced. The host gets it on its next sync.' : 'Override set. The host gets it on its next sync.');
    }
  };

  const remove = async () => {
    const ok = await call(() => api.config.deleteHostConfigOverride({ hostId }));
    if (ok) {
      setSaved(undefined);
      setF({ ...EMPTY_OVERRIDE });
      setSaid('Override removed. The host gets the fleet config.toml on its next sync.');
    }
  };

  // An edited field's save error is stale: drop it (the live check speaks for the TOML).
  const edit = (k: keyof OverrideForm) => (e: Event) => {
    setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });
    if (errs[k]) setErrs({ ...errs, [k]: '' });
  };
  const dirty = !sameOverride(f, overrideForm(saved));
  const options = [...profiles];
  if (f.defaultProfile && !options.includes(f.defaultProfile)) options.push(f.defaultProfile);

  return (
    <>
      <p class="small" data-testid="override-state">
        {saved ? (
          <>
            This host has an override, updated <Rel date={tsDate(saved.updatedAt)} />.
          </>
        ) : (
          <span class="muted">No override: this host gets the fleet config.toml and default profile.</span>
        )}
      </p>
      <div class="grid two">
        <form class="form" onSubmit={save}>
          <CheckedField
            label="Extra config.toml for this host"
            error={errs.extraToml || liveErr}
            hint="Merged after the fleet template; a key the template already sets is refused. Checked as you type."
          >
            {(id, a11y) => (
              <textarea id={id} class="mono" rows={6} spellcheck={false} value={f.extraToml} disabled={ro} onInput={edit('extraToml')} {...a11y} />
            )}
          </CheckedField>
          <CheckedField label="Default profile" error={errs.defaultProfile} hint="The profile cdx selects when the user names none.">
            {(id, a11y) => (
              <select id={id} value={f.defaultProfile} disabled={ro} onChange={edit('defaultProfile')} {...a11y}>
                <option value="">{fleetDefault ? `(fleet default: ${fleetDefault})` : '(fleet default: none)'}</option>
                {options.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            )}
          </CheckedField>
          <CheckedField label="Extra requirements.toml for this host" error={errs.requirementsToml} hint="Appended to the fleet requirements.toml (/etc/codex/requirements.toml); checked when saved.">
            {(id, a11y) => (
              <textarea id={id} class="mono" rows={4} spellcheck={false} value={f.requirementsToml} disabled={ro} onInput={edit('requirementsToml')} {...a11y} />
            )}
          </CheckedField>
          {conflict !== undefined && (
            <div class="notice warn" role="alert">
              <p>
                {conflict ? (
                  <>
                    Someone changed this host's override <Rel date={tsDate(conflict.updatedAt)} /> after you opened it.
                  </>
                ) : (
                  'Someone removed this host\u2019s override after you opened it.'
                )}{' '}
                Saving would overwrite their change.
              </p>
              <div class="button-row">
                <button
                  type="button"
                  class="secondary small"
                  onClick={() => {
                    setSaved(conflict ?? undefined);
                    setF(overrideForm(conflict ?? undefined));
                    setConflict(undefined);
                  }}
                >
                  Load their version
                </button>
                <button
                  type="button"
                  class="secondary small"
                  onClick={() => {
                    setSaved(conflict ?? undefined);
                    setConflict(undefined);
                  }}
                >
                  Keep mine
                </button>
              </div>
            </div>
          )}
          <ErrorNote message={act.error} />
          {said && <Notice kind="ok">{said}</Notice>}
          {s.canWrite && (
            <div class="button-row">
              <button type="submit" class="primary" disabled={act.busy || conflict !== undefined || !dirty}>
                {saved ? 'Save override' : 'Set override'}
              </button>
              {dirty && (
                <button type="button" class="secondary" onClick={() => setF(overrideForm(saved))}>
                  Discard changes
                </button>
              )}
              {saved && (
                <ConfirmButton
                  label="Remove override"
                  title="Remove this host's config override?"
                  message={<p>The host gets the fleet config.toml, requirements.toml and default profile on its next sync.</p>}
                  confirmLabel="Remove override"
                  danger
                  disabled={act.busy}
                  onConfirm={remove}
                />
              )}
            </div>
          )}
        </form>
        <HostPreview hostId={hostId} extra={f.extraToml} unsaved={dirty} defaultProfile={effectiveProfile(f.defaultProfile, fleetDefault)} onBlockError={setLiveErr} />
      </div>
    </>
  );
}

interface PreviewBase {
  template: ConfigTemplate | undefined;
  host: { modelOverride: string; reasoningEffortOverride: string } | undefined;
}

/** The host's config.toml with `extra` as its override, re-rendered 300 ms after the last edit. */
function HostPreview({
  hostId,
  extra,
  unsaved,
  defaultProfile,
  onBlockError,
}: {
  hostId: string;
  extra: string;
  unsaved: boolean;
  defaultProfile: string;
  onBlockError: (message: string | undefined) => void;
}) {
  const base = useAsync<PreviewBase>(async () => {
    const [doc, host] = await Promise.all([api.config.getConfigTemplate({}), api.fleet.getHost({ id: hostId })]);
    return { template: doc.document?.template, host: host.host };
  }, [hostId]);
  const [preview, setPreview] = useState<BakedConfig>();
  const [error, setError] = useState<string>();
  const [rendering, setRendering] = useState(false);

  useEffect(() => {
    const data = base.data;
    if (!data?.template) return;
    let stale = false;
    const t = window.setTimeout(async () => {
      setRendering(true);
      try {
        // The server bakes what the host's next sync gets, with the edit in place of the saved
        // override and the host's model overrides.
        const r = await api.config.renderConfig({
          hostId,
          hostOverride: { hostId, extraToml: extra },
          modelOverride: data.host?.modelOverride ?? '',
          reasoningEffortOverride: data.host?.reasoningEffortOverride ?? '',
        });
        if (stale) return;
        setPreview(r.config);
        setError(undefined);
        onBlockError(undefined);
      } catch (e) {
        if (stale) return;
        const mine = previewError(fieldViolations(e));
        onBlockError(mine);
        // The admin's own TOML is flagged at its field; anything else is the fleet template's.
        setError(mine ? `Not previewed: ${mine}` : errorMessage(e));
      } finally {
        if (!stale) setRendering(false);
      }
    }, 300);
    return () => {
      stale = true;
      window.clearTimeout(t);
    };
  }, [base.data, extra]);

  return (
    <div class="host-preview">
      <h3>What the host receives</h3>
      <AsyncView state={base} label="Loading the fleet template…">
        {(data) =>
          !data.template ? (
            <p class="state empty">No fleet config.toml template is saved yet, so hosts receive no config.toml; this override applies once one is.</p>
          ) : (
            <>
              <div aria-live="polite">
                {error && (
                  <div class="state error" role="alert" data-testid="host-preview-error">
                    {error}
                  </div>
                )}
              </div>
              {preview ? (
                <>
                  <p class="small muted">
                    config.toml · {formatBytes(preview.sizeBytes)} · sha256 <code>{shortDigest(preview.sha256)}</code> · {unsaved ? 'with your unsaved changes' : 'as saved'}
                    {rendering && ' · updating…'}
                  </p>
                  <pre class="code" tabIndex={0} data-testid="host-config-preview">
                    {preview.content}
                  </pre>
                  <p class="small muted">
                    Default profile: {defaultProfile ? <code>{defaultProfile}</code> : 'none'} · {preview.profiles.length} profile file{preview.profiles.length === 1 ? '' : 's'} · the key in
                    [mcp_servers.cdx] is a placeholder for the host's own.
                  </p>
                </>
              ) : (
                !error && <p class="muted">Rendering…</p>
              )}
            </>
          )
        }
      </AsyncView>
    </div>
  );
}
