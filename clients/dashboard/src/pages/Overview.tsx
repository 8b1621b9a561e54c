// Overview: hosts online/total, canonical auth, usage totals, quota bars, alerts. The fleet and
// usage cards follow server streams (a host registered elsewhere shows up at once); the rest
// refresh every 5 s.

import { api } from '../lib/api';
import { useAction, useAsync, useLive } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatCost, formatCount, formatTokens, tsDate } from '../lib/format';
import { href } from '../lib/route';
import { Role } from '../gen/codexcentral/common/v1/common_pb';
import type { GetUsageSummaryResponse, UsagePeriodTotals, QuotaWindow } from '../gen/codexcentral/usage/v1/usage_pb';
import { AsyncView, Badge, Bar, Card, Empty, ErrorNote, PageHeader, Rel, Stat } from '../components/ui';
import { AuthStateBadge, validationBadge } from './CodexAuth';

const POLL_MS = 5000;

export function Overview() {
  const s = useSession();
  const staff = s.role === Role.ADMIN || s.role === Role.READ_ONLY;
  return (
    <div>
      <PageHeader title="Overview" />
      {staff && <FleetCard />}
      <div class="grid two">
        {staff && <AuthCard />}
        <UsageCard userId={staff ? '' : s.principal.id} />
        {staff && <QuotaCard />}
        <AlertsCard />
      </div>
    </div>
  );
}

function FleetCard() {
  const live = useLive((signal) => api.fleet.watchFleetOverview({}, { signal }), []);
  const st = { ...live, data: live.data?.overview };
  return (
    <Card title="Fleet" actions={<a href={href('hosts')}>All hosts →</a>}>
      <AsyncView state={st} label="Loading the fleet…">
        {(o) => (
          <>
            {o.policy && !o.policy.apiEnabled && (
              <div class="notice warn" role="status">
                Kill switch is on: every host call answers 503. <a href={href('fleet')}>Change</a>
              </div>
            )}
            <div class="stats">
              <Stat label="Hosts" value={<span data-testid="hosts-total">{formatCount(o.totalHosts)}</span>} />
              <Stat label="Online (24 h)" value={`${formatCount(o.activeHosts)} / ${formatCount(o.totalHosts)}`} />
              <Stat label="Disabled" value={formatCount(o.disabledHosts)} />
              <Stat label="Insecure windows open" value={formatCount(o.insecureOpenHosts)} />
              <Stat label="Latest activity" value={<Rel date={tsDate(o.latestActivityAt)} />} />
              <Stat
                label="Codex version"
                value={o.versions?.clientVersion || '—'}
                hint={o.versions?.availableClientVersion ? `latest ${o.versions.availableClientVersion}` : undefined}
              />
            </div>
            {o.clientVersions.length > 0 ? (
              <div class="table-wrap">
                <table>
                  <caption>Codex versions in use</caption>
                  <thead>
                    <tr>
                      <th scope="col">Version</th>
                      <th scope="col" class="num">
                        Hosts
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {o.clientVersions.map((v) => (
                      <tr key={v.version}>
                        <td>{v.version || <span class="muted">not reported</span>}</td>
                        <td class="num">{formatCount(v.hosts)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              o.totalHosts === 0 && (
                <Empty>
                  No hosts yet. <a href={href('hosts', 'new')}>Register the first host</a>.
                </Empty>
              )
            )}
          </>
        )}
      </AsyncView>
    </Card>
  );
}

function AuthCard() {
  const st = useAsync(() => api.codexAuth.getCodexAuthStatus({}), [], POLL_MS);
  return (
    <Card title="Canonical auth.json" actions={<a href={href('auth')}>Details →</a>}>
      <AsyncView state={st}>
        {(r) => {
          const a = r.summary;
          if (!a?.present) return <Empty>No canonical auth.json yet: upload one or let a host store its own.</Empty>;
          return (
            <dl class="facts">
              <div class="fact">
                <dt>Account</dt>
                <dd>{a.claims?.email || a.claims?.accountId || '—'}</dd>
              </div>
              <div class="fact">
                <dt>Plan</dt>
                <dd>{a.claims?.planType || '—'}</dd>
              </div>
              <div class="fact">
                <dt>Access token expires</dt>
                <dd>
                  <Rel date={tsDate(a.claims?.accessTokenExpiresAt)} />
                </dd>
              </div>
              <div class="fact">
                <dt>Last refresh</dt>
                <dd>
                  <Rel date={tsDate(a.lastRefresh)} />
                </dd>
              </div>
              <div class="fact">
                <dt>Validation</dt>
                <dd>{validationBadge(a.lastValidation?.state)}</dd>
              </div>
              <div class="fact">
                <dt>Refresh</dt>
                <dd>
                  <AuthStateBadge summary={a} />
                </dd>
              </div>
            </dl>
          );
        }}
      </AsyncView>
    </Card>
  );
}

function periodRow(label: string, p: UsagePeriodTotals | undefined, currency: string) {
  const t = p?.tokens;
  return (
    <tr key={label}>
      <th scope="row">{label}</th>
      <td class="num">{formatTokens(t?.totalTokens ?? 0n)}</td>
      <td class="num hide-narrow">{formatTokens(t?.inputTokens ?? 0n)}</td>
      <td class="num hide-narrow">{formatTokens(t?.cachedInputTokens ?? 0n)}</td>
      <td class="num hide-narrow">{formatTokens(t?.outputTokens ?? 0n)}</td>
      <td class="num">{formatCost(p?.costMicros ?? 0n, currency)}</td>
    </tr>
  );
}

export function UsageSummaryTable({ r }: { r: GetUsageSummaryResponse }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col" class="num">
              Tokens
            </th>
            <th scope="col" class="num hide-narrow">
              Input
            </th>
            <th scope="col" class="num hide-narrow">
              Cached
            </th>
            <th scope="col" class="num hide-narrow">
              Output
            </th>
            <th scope="col" class="num">
              Cost
            </th>
          </tr>
        </thead>
        <tbody>
          {periodRow('Today', r.day, r.currency)}
          {periodRow('This week', r.week, r.currency)}
          {periodRow('This month', r.month, r.currency)}
        </tbody>
      </table>
    </div>
  );
}

function UsageCard({ userId }: { userId: string }) {
  const live = useLive((signal) => api.usage.watchUsageSummary({ userId }, { signal }), [userId]);
  const st = { ...live, data: live.data?.summary };
  return (
    <Card title={userId ? 'My usage' : 'Fleet usage'} actions={<a href={href('usage')}>Charts →</a>}>
      <AsyncView state={st}>{(r) => <UsageSummaryTable r={r} />}</AsyncView>
    </Card>
  );
}

function windowLabel(name: string, w: QuotaWindow) {
  const mins = w.windowMinutes;
  const span = mins >= 1440 ? `${Math.round(mins / 1440)} d` : mins >= 60 ? `${Math.round(mins / 60)} h` : `${mins} min`;
  return `${name} (${span} window)`;
}

function QuotaCard() {
  const st = useAsync(() => api.usage.getLatestQuotaSnapshot({}), [], POLL_MS);
  return (
    <Card title="ChatGPT quota">
      <AsyncView state={st}>
        {(r) => {
          const snap = r.snapshot;
          if (!snap) return <Empty>No quota snapshot reported yet.</Empty>;
          const resets = (w: QuotaWindow | undefined) => {
            const d = tsDate(w?.resetsAt);
            return d ? (
              <>
                resets <Rel date={d} />
              </>
            ) : undefined;
          };
          return (
            <>
              {snap.primary && <Bar label={windowLabel('Primary', snap.primary)} percent={snap.primary.usedPercent} hint={resets(snap.primary)} />}
              {snap.secondary && <Bar label={windowLabel('Weekly', snap.secondary)} percent={snap.secondary.usedPercent} hint={resets(snap.secondary)} />}
              {r.status?.weeklyProjectedPercent !== undefined && (
                <p class="small">Weekly projection at the current rate: {r.status.weeklyProjectedPercent.toFixed(0)} %</p>
              )}
              <p class="small">
                {r.status?.overLimit ? <Badge kind="bad">over the limit</Badge> : <Badge kind="ok">within the limit</Badge>}{' '}
                {r.status?.reason} <span class="muted">· observed <Rel date={tsDate(snap.observedAt)} />{snap.planType ? ` · plan ${snap.planType}` : ''}</span>
              </p>
            </>
          );
        }}
      </AsyncView>
    </Card>
  );
}

function AlertsCard() {
  const s = useSession();
  const st = useAsync(() => api.usage.listAlerts({ activeOnly: true, page: { pageSize: 10 } }), [], POLL_MS);
  const act = useAction();
  const ack = async (id: string) => {
    await act.run(() => api.usage.acknowledgeAlert({ id }));
    st.reload();
  };
  return (
    <Card title="Active alerts">
      <ErrorNote message={act.error} />
      <AsyncView state={st}>
        {(r) =>
          r.alerts.length === 0 ? (
            <Empty>No active alerts.</Empty>
          ) : (
            <ul class="alerts">
              {r.alerts.map((a) => (
                <li key={a.id}>
                  <Badge kind="warn">{a.metric}</Badge> {a.message || `${a.percent.toFixed(0)} % of ${a.threshold} %`}
                  <span class="muted small">
                    {' '}
                    · <Rel date={tsDate(a.raisedAt)} />
                  </span>
                  {(s.canWrite || s.role === Role.MEMBER) && (
                    <button type="button" class="secondary small" disabled={act.busy} onClick={() => ack(a.id)}>
                      Acknowledge
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </AsyncView>
    </Card>
  );
}
