// One host: facts, auth.json digests against the canonical copy, validation, local users,
// usage; switches for enabled / roaming / secure / VIP / IPv4 / curl -k; insecure window;
// Codex version pin; model override; key rotation; removal.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatCount, formatDateTime, shortDigest, tsDate } from '../lib/format';
import { href } from '../lib/route';
import { HostStatus, type Host, type InstallerToken } from '../gen/codexcentral/fleet/v1/fleet_pb';
import { AsyncView, Badge, Card, ConfirmButton, Countdown, Empty, ErrorNote, Facts, Field, PageHeader, Rel, Switch } from '../components/ui';
import { hostBadges } from './HostsList';
import { InstallerResult } from './NewHost';
import { UsageSummaryTable } from './Overview';
import { validationBadge } from './CodexAuth';
import { HostOverrideCard } from './HostOverride';

export function HostDetail({ id }: { id: string }) {
  const s = useSession();
  const st = useAsync(() => api.fleet.getHost({ id }), [id], 10_000);
  const [host, setHost] = useState<Host>();
  const act = useAction();
  const [rotated, setRotated] = useState<{ apiKey: string; installer?: InstallerToken; host?: Host }>();

  useEffect(() => {
    if (st.data?.host) setHost(st.data.host);
  }, [st.data]);

  const apply = async (fn: () => Promise<{ host?: Host }>) => {
    const r = await act.run(fn);
    if (r?.host) setHost(r.host);
  };

  if (!host) {
    return (
      <div>
        <PageHeader title="Host">
          <a href={href('hosts')}>← Hosts</a>
        </PageHeader>
        <AsyncView state={st} label="Loading the host…">
          {() => <Empty>Host not found.</Empty>}
        </AsyncView>
      </div>
    );
  }
  const w = s.canWrite;
  const insecureUntil = tsDate(host.insecureEnabledUntil);
  const windowOpen = !!insecureUntil && insecureUntil.getTime() > Date.now();

  return (
    <div>
      <PageHeader title={host.fqdn}>
        <a href={href('hosts')}>← Hosts</a>
      </PageHeader>
      <p>{hostBadges(host)}</p>
      <ErrorNote message={act.error} />
      {st.error && <ErrorNote message={`Refresh failed: ${st.error}`} onRetry={st.reload} />}
      {rotated && <InstallerResult host={rotated.host} apiKey={rotated.apiKey} installer={rotated.installer} rotated />}
      <div class="grid two">
        <Card title="Host">
          <Facts
            items={[
              ['Id', <code>{host.id}</code>],
              ['IP', host.ip || <span class="muted">unbound until first use</span>],
              ['Codex', host.clientVersion || '—'],
              ['cdx', host.wrapperVersion || '—'],
              ['API calls', formatCount(host.apiCalls)],
              ['Registered', <Rel date={tsDate(host.createdAt)} />],
              ['Last seen', <Rel date={tsDate(host.lastSeenAt)} />],
              ['Expires', host.expiresAt ? <Rel date={tsDate(host.expiresAt)} /> : 'never'],
              ['auth.json last_refresh', <Rel date={tsDate(host.lastRefresh)} />],
              ['Installation id', host.installationId ? <code>{host.installationId}</code> : '—'],
            ]}
          />
        </Card>
        <DigestCard hostId={host.id} />
        <Card title="Access">
          <Switch label="Enabled" checked={host.status !== HostStatus.DISABLED} disabled={!w || act.busy} onChange={(v) => apply(() => api.fleet.setHostEnabled({ id, enabled: v }))} />
          <Switch label="Allow roaming IPs" checked={host.allowRoamingIps} disabled={!w || act.busy} onChange={(v) => apply(() => api.fleet.setHostRoaming({ id, allow: v }))} />
          <Switch label="Secure" hint="insecure hosts need an open window" checked={host.secure} disabled={!w || act.busy} onChange={(v) => apply(() => api.fleet.setHostSecure({ id, secure: v }))} />
          <Switch label="VIP" hint="exempt from quota hard failure" checked={host.vip} disabled={!w || act.busy} onChange={(v) => apply(() => api.fleet.setHostVip({ id, vip: v }))} />
          <Switch label="Force IPv4" checked={host.forceIpv4} disabled={!w || act.busy} onChange={(v) => apply(() => api.fleet.setHostForceIpv4({ id, force: v }))} />
          <Switch label="Skip TLS verification (curl -k)" checked={host.curlInsecure} disabled={!w || act.busy} onChange={(v) => apply(() => api.fleet.setHostCurlInsecure({ id, allow: v }))} />
        </Card>
        <InsecureWindowCard host={host} windowOpen={windowOpen} busy={act.busy} apply={apply} />
        <VersionCard host={host} busy={act.busy} apply={apply} />
        <HostOverrideCard hostId={host.id} />
        <HostUsersCard hostId={host.id} />
        <Card title="Usage" actions={<a href={`${href('usage')}?host=${encodeURIComponent(host.id)}`}>Charts →</a>}>
          <HostUsage hostId={host.id} />
        </Card>
        {w && (
          <Card title="Key and removal">
            <p class="small">Rotating issues a new key and installer link; the old key stops working at once.</p>
            <div class="button-row">
              <ConfirmButton
                label="Rotate key"
                title="Rotate this host's key?"
                message={<p>The host stops working until it is installed again with the new key.</p>}
                confirmLabel="Rotate key"
                onConfirm={async () => {
                  const r = await act.run(() => api.fleet.rotateHostKey({ id }));
                  if (r) {
                    setRotated({ apiKey: r.apiKey, installer: r.installer, host: r.host });
                    if (r.host) setHost(r.host);
                  }
                }}
              />
              <ConfirmButton
                label="Remove host"
                title={`Remove ${host.fqdn}?`}
                message={<p>Its key and sync state are deleted. This cannot be undone.</p>}
                confirmLabel="Remove"
                danger
                onConfirm={async () => {
                  const r = await act.run(() => api.fleet.deleteHost({ id }));
                  if (r) window.location.hash = href('hosts');
                }}
              />
              <ConfirmButton
                label="Clear sync state"
                title="Clear the recorded sync state?"
                message={<p>The host's recorded auth.json digests are forgotten; its next sync starts afresh.</p>}
                confirmLabel="Clear"
                onConfirm={() => apply(() => api.fleet.clearHostSync({ id }))}
              />
            </div>
          </Card>
        )}
      </div>
    </div>
  );
}

function DigestCard({ hostId }: { hostId: string }) {
  const st = useAsync(
    () => Promise.all([api.codexAuth.listHostAuthStates({ hostId, page: { pageSize: 1 } }), api.codexAuth.getCodexAuthStatus({})]),
    [hostId],
    10_000,
  );
  return (
    <Card title="auth.json digests">
      <AsyncView state={st}>
        {([states, status]) => {
          const h = states.states.find((x) => x.hostId === hostId);
          const canonical = states.canonicalDigest || status.summary?.digest || '';
          return (
            <Facts
              items={[
                ['Canonical', canonical ? <code title={canonical}>{shortDigest(canonical)}</code> : 'none'],
                ['Host has', h ? <code title={h.seenDigest}>{shortDigest(h.seenDigest)}</code> : <span class="muted">never synced</span>],
                ['In sync', h ? h.inSync ? <Badge kind="ok">yes</Badge> : <Badge kind="warn">no</Badge> : '—'],
                ['Last sync', <Rel date={tsDate(h?.seenAt)} />],
                [
                  'Recent digests',
                  h && h.recentDigests.length ? (
                    <span class="codes">
                      {h.recentDigests.map((d) => (
                        <code key={d} title={d}>
                          {shortDigest(d)}
                        </code>
                      ))}
                    </span>
                  ) : (
                    '—'
                  ),
                ],
                ['Canonical validation', validationBadge(status.summary?.lastValidation?.state)],
                ['Validated', <Rel date={tsDate(status.summary?.lastValidation?.checkedAt)} />],
              ]}
            />
          );
        }}
      </AsyncView>
    </Card>
  );
}

function InsecureWindowCard({
  host,
  windowOpen,
  busy,
  apply,
}: {
  host: Host;
  windowOpen: boolean;
  busy: boolean;
  apply: (fn: () => Promise<{ host?: Host }>) => Promise<void>;
}) {
  const s = useSession();
  const [minutes, setMinutes] = useState(host.insecureWindowMinutes || 10);
  const until = tsDate(host.insecureEnabledUntil);
  const grace = tsDate(host.insecureGraceUntil);
  return (
    <Card title="Insecure access window">
      {host.secure ? (
        <p class="small muted">This host is secure: it needs no window. Mark it insecure to use one.</p>
      ) : (
        <>
          <p>
            {windowOpen ? (
              <>
                <Badge kind="warn">open</Badge> closes in <Countdown until={until} /> ({formatDateTime(until)})
              </>
            ) : (
              <Badge kind="neutral">closed</Badge>
            )}
            {grace && grace.getTime() > Date.now() && (
              <span class="small">
                {' '}
                · grace until {formatDateTime(grace)}
              </span>
            )}
          </p>
          {s.canWrite && (
            <form
              class="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                apply(() => api.fleet.enableInsecureWindow({ id: host.id, durationMinutes: minutes }));
              }}
            >
              <Field label="Minutes (0-480)">
                {(id) => <input id={id} type="number" min={0} max={480} value={minutes} onInput={(e) => setMinutes(Number((e.currentTarget as HTMLInputElement).value))} />}
              </Field>
              <button type="submit" class="secondary" disabled={busy}>
                {windowOpen ? 'Extend window' : 'Open window'}
              </button>
              {windowOpen && (
                <button type="button" class="secondary" disabled={busy} onClick={() => apply(() => api.fleet.disableInsecureWindow({ id: host.id }))}>
                  Close window
                </button>
              )}
            </form>
          )}
        </>
      )}
    </Card>
  );
}

function VersionCard({ host, busy, apply }: { host: Host; busy: boolean; apply: (fn: () => Promise<{ host?: Host }>) => Promise<void> }) {
  const s = useSession();
  const [pin, setPin] = useState(host.clientVersionOverride);
  const [model, setModel] = useState(host.modelOverride);
  const [effort, setEffort] = useState(host.reasoningEffortOverride);
  return (
    <Card title="Version pin and model">
      <Facts
        items={[
          ['Codex pin', host.clientVersionOverride || 'follows the fleet policy'],
          ['Model override', host.modelOverride || 'none'],
          ['Reasoning effort', host.reasoningEffortOverride || 'none'],
        ]}
      />
      {s.canWrite && (
        <>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              apply(() => api.fleet.setHostCodexVersion({ id: host.id, selection: pin.trim() }));
            }}
          >
            <Field label="Codex version (x.y.z, empty: fleet policy)">
              {(id) => <input id={id} type="text" placeholder="0.169.0" value={pin} onInput={(e) => setPin((e.currentTarget as HTMLInputElement).value)} />}
            </Field>
            <button type="submit" class="secondary" disabled={busy}>
              Set pin
            </button>
          </form>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              apply(() => api.fleet.setHostModelOverride({ id: host.id, modelOverride: model.trim(), reasoningEffortOverride: effort.trim() }));
            }}
          >
            <Field label="Model (empty: none)">
              {(id) => <input id={id} type="text" value={model} onInput={(e) => setModel((e.currentTarget as HTMLInputElement).value)} />}
            </Field>
            <Field label="Reasoning effort">
              {(id) => (
                <select id={id} value={effort} onChange={(e) => setEffort((e.currentTarget as HTMLSelectElement).value)}>
                  {['', 'minimal', 'low', 'medium', 'high', 'xhigh'].map((v) => (
                    <option key={v} value={v}>
                      {v || 'none'}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="submit" class="secondary" disabled={busy}>
              Set model
            </button>
          </form>
        </>
      )}
    </Card>
  );
}

function HostUsersCard({ hostId }: { hostId: string }) {
  const st = useAsync(() => api.fleet.listHostUsers({ hostId, page: { pageSize: 20 } }), [hostId]);
  return (
    <Card title="Local users">
      <AsyncView state={st}>
        {(r) =>
          r.users.length === 0 ? (
            <Empty>No local user has run Codex on this host yet.</Empty>
          ) : (
            <ul class="plain">
              {r.users.map((u) => (
                <li key={`${u.username}@${u.hostname}`}>
                  <strong>{u.username}</strong>
                  {u.hostname && <span class="muted">@{u.hostname}</span>} · last seen <Rel date={tsDate(u.lastSeen)} />
                </li>
              ))}
            </ul>
          )
        }
      </AsyncView>
    </Card>
  );
}

function HostUsage({ hostId }: { hostId: string }) {
  const st = useAsync(() => api.usage.getUsageSummary({ hostId }), [hostId]);
  return <AsyncView state={st}>{(r) => <UsageSummaryTable r={r} />}</AsyncView>;
}
