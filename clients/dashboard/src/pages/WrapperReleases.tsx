// The cdx builds the server offers hosts (`/wrapper`, `/wrapper/download`): per platform its
// version, SHA-256, size and when it changed; an admin removes one here. Builds are published
// with `--wrapper-dir` or `POST /admin/wrappers` (a multi-megabyte upload is not a form's job).

import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, shortDigest, tsDate } from '../lib/format';
import { WrapperKind } from '../gen/codexcentral/fleet/v1/fleet_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Rel } from '../components/ui';

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
