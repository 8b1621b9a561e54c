// The cdx builds the server offers hosts (`/wrapper`, `/wrapper/download`): per platform its
// version, SHA-256, size and when it changed; an admin publishes a build from a file (one
// grpc-web message, up to the server's 64 MiB limit) or removes one. `--wrapper-dir` and
// `POST /admin/wrappers` publish the same way from scripts.

import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { violationFor, type FieldViolation } from '../lib/violations';
import { useAction, useAsync, useFormAction } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, shortDigest, tsDate } from '../lib/format';
import { WrapperKind } from '../gen/codexcentral/fleet/v1/fleet_pb';
import { AsyncView, Badge, Card, CheckedField, ConfirmButton, Empty, ErrorNote, Field, Notice, Rel } from '../components/ui';

/** The server's ceiling for one build (services/fleet/src/domain/wrappers.rs `MAX_SIZE`). */
export const MAX_BUILD_BYTES = 64 * 1024 * 1024;

/**
 * The platform a build's file name says, as `--wrapper-dir` names them: `cdx-linux-x86_64` →
 * `linux-x86_64`, `cdx.sh` → `script` (the legacy wrapper); '' when the name says nothing.
 */
export function platformFromFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  if (base === 'cdx.sh') return 'script';
  const m = /^cdx-([A-Za-z0-9._+-]{1,64})$/.exec(base);
  return m ? m[1] : '';
}

export function WrapperReleasesCard() {
  const s = useSession();
  const st = useAsync(() => api.fleet.listWrapperReleases({}), []);
  const act = useAction();
  return (
    <Card title="cdx releases" class="span-2">
      <p class="muted small">
        What hosts download from <code>/wrapper/download</code>; a platform without its own build gets the legacy script. Publish builds with{' '}
        <code>--wrapper-dir</code> or <code>POST /admin/wrappers</code>.
      </p>
      <ErrorNote message={act.error} />
      {s.canWrite && <PublishForm onPublished={st.reload} />}
      <AsyncView state={st} label="Loading releases…">
        {(r) =>
          r.releases.length === 0 ? (
            <Empty>No cdx build published: hosts get the legacy script.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Platform</th>
                    <th scope="col">Version</th>
                    <th scope="col" class="hide-narrow">
                      SHA-256
                    </th>
                    <th scope="col" class="num">
                      Size
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
                  {r.releases.map((w) => (
                    <tr key={`${w.platform}/${w.version}`}>
                      <td>
                        {w.platform || 'any'} {w.kind === WrapperKind.LEGACY_SCRIPT && <Badge>legacy script</Badge>}
                      </td>
                      <td>{w.version}</td>
                      <td class="hide-narrow">
                        <code title={w.sha256}>{shortDigest(w.sha256)}</code>
                      </td>
                      <td class="num">{formatBytes(w.sizeBytes)}</td>
                      <td class="hide-narrow">
                        <Rel date={tsDate(w.updatedAt)} />
                      </td>
                      <td>
                        {s.canWrite && w.kind === WrapperKind.BINARY && (
                          <ConfirmButton
                            label="Remove"
                            class="danger small"
                            title={`Remove cdx ${w.version} for ${w.platform}?`}
                            message={<p>Hosts on this platform get the legacy script until another build is published.</p>}
                            confirmLabel="Remove build"
                            danger
                            disabled={act.busy}
                            onConfirm={async () => {
                              await act.run(() => api.fleet.deleteWrapperRelease({ version: w.version, platform: w.platform }));
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
    </Card>
  );
}

function PublishForm({ onPublished }: { onPublished: () => void }) {
  const [file, setFile] = useState<File>();
  const [platform, setPlatform] = useState('');
  const [version, setVersion] = useState('');
  const [sha256, setSha256] = useState('');
  const [done, setDone] = useState<string>();
  const act = useFormAction((v) => v, [] as FieldViolation[]);
  const violations = act.errs;
  const tooBig = file !== undefined && file.size > MAX_BUILD_BYTES;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!file || tooBig) return;
    setDone(undefined);
    const content = new Uint8Array(await file.arrayBuffer());
    const kind = platform.trim() === 'script' ? WrapperKind.LEGACY_SCRIPT : WrapperKind.BINARY;
    const r = await act.run(() =>
      api.fleet.publishWrapperRelease({ platform: platform.trim(), version: version.trim(), kind, content, sha256: sha256.trim().toLowerCase() }),
    );
    if (r?.release) {
      setDone(`Published cdx ${r.release.version} for ${r.release.platform} (sha256 ${r.release.sha256}).`);
      setFile(undefined);
      onPublished();
    }
  };
  return (
    <details class="publish">
      <summary>Publish a build</summary>
      <form class="form" onSubmit={submit}>
        <Field label="Build file" hint="cdx-<platform> from cargo build, or cdx.sh for the legacy script">
          {(id) => (
            <input
              id={id}
              type="file"
              onChange={(e) => {
                const f = (e.currentTarget as HTMLInputElement).files?.[0];
                setFile(f);
                setDone(undefined);
                if (f && !platform) setPlatform(platformFromFileName(f.name));
              }}
            />
          )}
        </Field>
        {tooBig && <p class="bad small">This file is {formatBytes(file!.size)}; the server takes builds up to {formatBytes(MAX_BUILD_BYTES)}.</p>}
        <CheckedField label="Platform" error={violationFor(violations, 'platform')} hint="as uname says it: linux-x86_64, darwin-aarch64; script for cdx.sh">
          {(id, a11y) => <input id={id} type="text" required value={platform} {...a11y} onInput={(e) => setPlatform((e.currentTarget as HTMLInputElement).value)} />}
        </CheckedField>
        <CheckedField label="Version" error={violationFor(violations, 'version')} hint="what cdx --version prints">
          {(id, a11y) => <input id={id} type="text" required value={version} {...a11y} onInput={(e) => setVersion((e.currentTarget as HTMLInputElement).value)} />}
        </CheckedField>
        <CheckedField label="Expected SHA-256 (optional)" error={violationFor(violations, 'sha256')} hint="from sha256sum on the build machine; the server refuses a file that differs">
          {(id, a11y) => <input id={id} type="text" spellcheck={false} autocomplete="off" value={sha256} {...a11y} onInput={(e) => setSha256((e.currentTarget as HTMLInputElement).value)} />}
        </CheckedField>
        <ErrorNote message={act.error} />
        {done && <Notice kind="ok">{done}</Notice>}
        <button type="submit" class="primary" disabled={act.busy || !file || tooBig}>
          {act.busy ? 'Publishing…' : 'Publish build'}
        </button>
      </form>
    </details>
  );
}
