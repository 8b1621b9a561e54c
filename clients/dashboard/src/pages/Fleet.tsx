// Fleet policy: the kill switch (with confirmation), silent mode, the Codex version policy,
// pruning, the quota policy and the cdx builds offered to hosts.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync, useSettingsForm } from '../lib/hooks';
import { useSession } from '../lib/session';
import { tsDate } from '../lib/format';
import type { FleetPolicy } from '../gen/codexcentral/fleet/v1/fleet_pb';
import type { QuotaPolicy } from '../gen/codexcentral/usage/v1/usage_pb';
import { WrapperReleasesCard } from './WrapperReleases';
import { AsyncView, Badge, Card, ConfirmButton, ErrorNote, Facts, Field, Notice, PageHeader, Rel, Switch, SaveRow } from '../components/ui';

export function FleetPage() {
  const s = useSession();
  const st = useAsync(() => api.fleet.getFleetPolicy({}), [], 10_000);
  const [policy, setPolicy] = useState<FleetPolicy>();
  const act = useAction();
  useEffect(() => {
    if (st.data?.policy) setPolicy(st.data.policy);
  }, [st.data]);
  const apply = async (fn: () => Promise<{ policy?: FleetPolicy }>) => {
    const r = await act.run(fn);
    if (r?.policy) setPolicy(r.policy);
  };

  return (
    <div>
      <PageHeader title="Kill switch & policy" />
      <ErrorNote message={act.error} />
      {!policy ? (
        <AsyncView state={st}>{() => null}</AsyncView>
      ) : (
        <div class="grid two">
          <Card title="Kill switch" class={policy.apiEnabled ? '' : 'alarm'}>
            <p data-testid="api-state">
              {policy.apiEnabled ? (
                <>
                  <Badge kind="ok">off</Badge> Hosts are served normally.
                </>
              ) : (
                <>
                  <Badge kind="bad">on</Badge> Every host call answers 503 until the switch is turned off.
                </>
              )}
            </p>
            {s.canWrite &&
              (policy.apiEnabled ? (
                <ConfirmButton
                  label="Turn the kill switch on"
                  title="Stop serving every host?"
                  message={<p>Every host call (auth sync, config, usage) answers 503 until you turn the switch off again.</p>}
                  confirmLabel="Stop all hosts"
                  danger
                  onConfirm={() => apply(() => api.fleet.setApiState({ apiEnabled: false }))}
                />
              ) : (
                <ConfirmButton
                  label="Turn the kill switch off"
                  title="Serve hosts again?"
                  message={<p>Hosts are served again from their next call.</p>}
                  confirmLabel="Serve hosts"
                  onConfirm={() => apply(() => api.fleet.setApiState({ apiEnabled: true }))}
                />
              ))}
          </Card>
          <Card title="Hosts">
            <Switch
              label="Silent mode"
              hint="cdx prints nothing unless something fails"
              checked={policy.silentMode}
              disabled={!s.canWrite || act.busy}
              onChange={(v) => apply(() => api.fleet.setSilentMode({ silentMode: v }))}
            />
            <PruneForm policy={policy} apply={apply} busy={act.busy} />
          </Card>
          <VersionPolicyCard policy={policy} apply={apply} busy={act.busy} />
          <QuotaPolicyCard />
          <WrapperReleasesCard />
        </div>
      )}
    </div>
  );
}

function PruneForm({ policy, apply, busy }: { policy: FleetPolicy; apply: (fn: () => Promise<{ policy?: FleetPolicy }>) => Promise<void>; busy: boolean }) {
  const s = useSession();
  const [days, setDays] = useState(policy.pruneInactiveDays);
  const [pruned, setPruned] = useState<string[]>();
  const act = useAction();
  return (
    <>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          apply(() => api.fleet.setPrunePolicy({ pruneInactiveDays: days }));
        }}
      >
        <Field label="Prune hosts inactive for (days, 0 = never)">
          {(id) => <input id={id} type="number" min={0} max={60} value={days} disabled={!s.canWrite} onInput={(e) => setDays(Number((e.currentTarget as HTMLInputElement).value))} />}
        </Field>
        {s.canWrite && (
          <button type="submit" class="secondary" disabled={busy}>
            Save
          </button>
        )}
      </form>
      {s.canWrite && (
        <ConfirmButton
          label="Prune now"
          title="Prune hosts now?"
          message={<p>Expired, inactive and never-provisioned hosts are removed.</p>}
          confirmLabel="Prune"
          danger
          onConfirm={async () => {
            const r = await act.run(() => api.fleet.pruneHosts({}));
            if (r) setPruned(r.prunedFqdns);
          }}
        />
      )}
      <ErrorNote message={act.error} />
      {pruned && <Notice kind="ok">{pruned.length ? `Pruned: ${pruned.join(', ')}` : 'Nothing to prune.'}</Notice>}
    </>
  );
}

function VersionPolicyCard({ policy, apply, busy }: { policy: FleetPolicy; apply: (fn: () => Promise<{ policy?: FleetPolicy }>) => Promise<void>; busy: boolean }) {
  const s = useSession();
  const versions = useAsync(() => api.fleet.getVersions({}), []);
  const [sel, setSel] = useState(policy.codexVersion?.pinned ? policy.codexVersion.version : 'latest');
  const act = useAction();
  return (
    <Card title="Codex version">
      <AsyncView state={versions}>
        {(r) => (
          <Facts
            items={[
              ['Hosts should run', r.versions?.clientVersion || '—'],
              ['Latest known', r.versions?.availableClientVersion || '—'],
              ['Highest reported', r.versions?.reportedClientVersion || '—'],
              ['Checked', <Rel date={tsDate(r.versions?.clientVersionCheckedAt)} />],
              ['cdx release', r.versions?.wrapperVersion || '—'],
            ]}
          />
        )}
      </AsyncView>
      <p class="small">Policy: {policy.codexVersion?.pinned ? `pinned to ${policy.codexVersion.version}` : 'follow the latest release'}</p>
      {s.canWrite && (
        <>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              apply(() => api.fleet.setCodexVersionPolicy({ selection: sel.trim() || 'latest' }));
            }}
          >
            <Field label="Version (latest or x.y.z)">
              {(id) => <input id={id} type="text" value={sel} onInput={(e) => setSel((e.currentTarget as HTMLInputElement).value)} />}
            </Field>
            <button type="submit" class="secondary" disabled={busy}>
              Set policy
            </button>
          </form>
          <button
            type="button"
            class="secondary small"
            disabled={act.busy}
            onClick={async () => {
              await act.run(() => api.fleet.checkCodexVersions({}));
              versions.reload();
            }}
          >
            Check for a new release
          </button>
          <ErrorNote message={act.error} />
        </>
      )}
    </Card>
  );
}

function QuotaPolicyCard() {
  const s = useSession();
  const f = useSettingsForm<QuotaPolicy>(
    async () => (await api.usage.getQuotaPolicy({})).policy,
    async (policy) => (await api.usage.setQuotaPolicy({ policy })).policy,
  );
  const p = f.value;
  return (
    <Card title="Quota policy">
      {!p ? (
        <AsyncView state={f.st}>{() => null}</AsyncView>
      ) : (
        <form class="form" onSubmit={f.submit}>
          <Switch label="Refuse to start Codex over the limit" hint="VIP hosts are exempt" checked={p.hardFail} disabled={!s.canWrite} onChange={(v) => f.edit({ ...p, hardFail: v })} />
          <Field label="Limit (% of the weekly window, 50-100)">
            {(id) => <input id={id} type="number" min={50} max={100} value={p.limitPercent} disabled={!s.canWrite} onInput={(e) => f.edit({ ...p, limitPercent: Number((e.currentTarget as HTMLInputElement).value) })} />}
          </Field>
          <Field label="Daily allowances of the weekly window">
            {(id) => (
              <select id={id} value={String(p.weekPartitionDays)} disabled={!s.canWrite} onChange={(e) => f.edit({ ...p, weekPartitionDays: Number((e.currentTarget as HTMLSelectElement).value) })}>
                <option value="0">Off</option>
                <option value="5">5 days</option>
                <option value="7">7 days</option>
              </select>
            )}
          </Field>
          <SaveRow error={f.error} saved={f.saved} busy={f.busy} canWrite={s.canWrite} label="Save quota policy" />
        </form>
      )}
    </Card>
  );
}
