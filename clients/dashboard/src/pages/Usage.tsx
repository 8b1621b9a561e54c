// Usage: daily charts (total, input, cached, output, reasoning; cost), totals per host / user /
// model / day, ingests, and the CSV export (a plain download link: the server streams it).
// A usage summary stream (WatchUsageSummary) tells the page when new usage arrived: the charts
// and tables reload then, not on a timer.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { api } from '../lib/api';
import { useAsync, useLive, useReloadOn } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatCost, formatCount, formatPercent, formatTokens, tsDate } from '../lib/format';
import { href, type Route } from '../lib/route';
import { Role } from '../gen/codexcentral/common/v1/common_pb';
import { UsageGrouping, type GetCostHistoryResponse } from '../gen/codexcentral/usage/v1/usage_pb';
import { AsyncView, Badge, Card, Empty, Field, PageHeader, Pager, Rel, usePager } from '../components/ui';
import { Chart, type SeriesSpec } from '../components/Chart';

const COLORS = { total: '#2563eb', input: '#0891b2', cached: '#16a34a', output: '#d97706', reasoning: '#9333ea', cost: '#dc2626' };

/** The REST export link for a filter (the same query the tables use). */
export function csvHref(days: number, hostId: string, model: string, now: Date = new Date()): string {
  const q = new URLSearchParams();
  q.set('since', new Date(now.getTime() - days * 86400_000).toISOString());
  if (hostId) q.set('host_id', hostId);
  if (model) q.set('model', model);
  return `/api/v1/usage/export.csv?${q.toString()}`;
}

/** Day x-values and the five token series (plus cost) from a cost history answer. */
export function historySeries(r: GetCostHistoryResponse): { xs: number[]; tokens: SeriesSpec[]; cost: SeriesSpec[] } {
  const xs = r.points.map((p) => Number(p.day?.seconds ?? 0n));
  const pick = (f: (t: NonNullable<(typeof r.points)[number]['tokens']>) => bigint) => r.points.map((p) => (p.tokens ? Number(f(p.tokens)) : 0));
  return {
    xs,
    tokens: [
      { label: 'Total', color: COLORS.total, values: pick((t) => t.totalTokens) },
      { label: 'Input', color: COLORS.input, values: pick((t) => t.inputTokens) },
      { label: 'Cached', color: COLORS.cached, values: pick((t) => t.cachedInputTokens) },
      { label: 'Output', color: COLORS.output, values: pick((t) => t.outputTokens) },
      { label: 'Reasoning', color: COLORS.reasoning, values: pick((t) => t.reasoningOutputTokens) },
    ],
    cost: [{ label: `Cost (${r.currency || 'USD'})`, color: COLORS.cost, values: r.points.map((p) => Number(p.costMicros) / 1e6) }],
  };
}

export function UsagePage({ route }: { route: Route }) {
  const s = useSession();
  const staff = s.role === Role.ADMIN || s.role === Role.READ_ONLY;
  const [days, setDays] = useState(30);
  const [hostId, setHostId] = useState(route.params.get('host') ?? '');
  const [model, setModel] = useState('');
  // New usage anywhere in view moves this summary; every card below reloads when it does.
  const watched = /^\d+$/.test(hostId) ? hostId : '';
  const live = useLive((signal) => api.usage.watchUsageSummary({ hostId: watched }, { signal }), [watched]);
  const changes = Math.max(0, live.updates - 1);
  const filter = useMemo(() => {
    const start = timestampFromDate(new Date(Date.now() - days * 86400_000));
    return { hostId, model: model.trim(), range: { start } };
  }, [days, hostId, model]);

  return (
    <div>
      <PageHeader title="Usage">
        {live.error ? <Badge kind="warn">live updates paused</Badge> : live.updates > 0 && <Badge kind="ok">live</Badge>}
        <a class="button secondary" href={csvHref(days, hostId, model.trim())} download="usage.csv">
          Export CSV
        </a>
      </PageHeader>
      <Card>
        <form class="filters" onSubmit={(e) => e.preventDefault()}>
          <Field label="Period">
            {(id) => (
              <select id={id} value={String(days)} onChange={(e) => setDays(Number((e.currentTarget as HTMLSelectElement).value))}>
                <option value="7">Last 7 days</option>
                <option value="30">Last 30 days</option>
                <option value="90">Last 90 days</option>
                <option value="180">Last 180 days</option>
              </select>
            )}
          </Field>
          {staff && (
            <Field label="Host id">
              {(id) => <input id={id} type="text" placeholder="any host" value={hostId} onChange={(e) => setHostId((e.currentTarget as HTMLInputElement).value.trim())} />}
            </Field>
          )}
          <Field label="Model">
            {(id) => <input id={id} type="text" placeholder="any model" value={model} onChange={(e) => setModel((e.currentTarget as HTMLInputElement).value)} />}
          </Field>
        </form>
      </Card>
      <HistoryCharts days={days} filter={filter} changes={changes} />
      <AggregatesCard filter={filter} staff={staff} changes={changes} />
      <IngestsCard filter={filter} changes={changes} />
      {staff && <QuotaHistoryCard />}
    </div>
  );
}

type Filter = { hostId: string; model: string; range: { start: ReturnType<typeof timestampFromDate> } };

function HistoryCharts({ days, filter, changes }: { days: number; filter: Filter; changes: number }) {
  const st = useAsync(() => api.usage.getCostHistory({ days, filter }), [days, filter]);
  useReloadOn(st, changes);
  const data = useMemo(() => (st.data ? historySeries(st.data) : undefined), [st.data]);
  return (
    <Card title="Per day">
      <AsyncView state={st} label="Loading the history…">
        {(r) =>
          !data || r.points.length === 0 ? (
            <Empty>No usage in this period.</Empty>
          ) : (
            <>
              <div class="grid two charts">
                <Chart title="Tokens per day" xs={data.xs} series={data.tokens} format={formatTokens} />
                <Chart title="Cost per day" xs={data.xs} series={data.cost} format={(v) => formatCost(v * 1e6, r.currency)} />
              </div>
              {!r.hasPricing && <p class="small muted">No price snapshot exists: cost is shown as 0.</p>}
            </>
          )
        }
      </AsyncView>
    </Card>
  );
}

const GROUPS: [UsageGrouping, string][] = [
  [UsageGrouping.MODEL, 'Model'],
  [UsageGrouping.HOST, 'Host'],
  [UsageGrouping.USER, 'User'],
  [UsageGrouping.DAY, 'Day'],
];

function AggregatesCard({ filter, staff, changes }: { filter: Filter; staff: boolean; changes: number }) {
  const [group, setGroup] = useState(UsageGrouping.MODEL);
  const groups = staff ? GROUPS : GROUPS.filter(([g]) => g !== UsageGrouping.HOST && g !== UsageGrouping.USER);
  const st = useAsync(() => api.usage.aggregateUsage({ filter, groupBy: group }), [filter, group]);
  useReloadOn(st, changes);
  const label = groups.find(([g]) => g === group)?.[1] ?? '';
  return (
    <Card
      title="Totals"
      actions={
        <div class="segmented" role="group" aria-label="Group by">
          {groups.map(([g, l]) => (
            <button key={g} type="button" class={g === group ? 'on' : ''} aria-pressed={g === group} onClick={() => setGroup(g)}>
              {l}
            </button>
          ))}
        </div>
      }
    >
      <AsyncView state={st}>
        {(r) =>
          r.buckets.length === 0 ? (
            <Empty>No usage in this period.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">Totals per {label.toLowerCase()}</caption>
                <thead>
                  <tr>
                    <th scope="col">{label}</th>
                    <th scope="col" class="num">
                      Total
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
                    <th scope="col" class="num hide-narrow">
                      Reasoning
                    </th>
                    <th scope="col" class="num">
                      Cost
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.buckets.map((b) => (
                    <tr key={b.key}>
                      <td class="wrap">
                        {group === UsageGrouping.HOST && b.key ? <a href={href('hosts', b.key)}>{b.label || b.key}</a> : b.label || b.key || <span class="muted">none</span>}
                      </td>
                      <td class="num">{formatTokens(b.tokens?.totalTokens ?? 0n)}</td>
                      <td class="num hide-narrow">{formatTokens(b.tokens?.inputTokens ?? 0n)}</td>
                      <td class="num hide-narrow">{formatTokens(b.tokens?.cachedInputTokens ?? 0n)}</td>
                      <td class="num hide-narrow">{formatTokens(b.tokens?.outputTokens ?? 0n)}</td>
                      <td class="num hide-narrow">{formatTokens(b.tokens?.reasoningOutputTokens ?? 0n)}</td>
                      <td class="num">{formatCost(b.costMicros, r.currency)}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row">All</th>
                    <td class="num">{formatTokens(r.totals?.totalTokens ?? 0n)}</td>
                    <td class="num hide-narrow">{formatTokens(r.totals?.inputTokens ?? 0n)}</td>
                    <td class="num hide-narrow">{formatTokens(r.totals?.cachedInputTokens ?? 0n)}</td>
                    <td class="num hide-narrow">{formatTokens(r.totals?.outputTokens ?? 0n)}</td>
                    <td class="num hide-narrow">{formatTokens(r.totals?.reasoningOutputTokens ?? 0n)}</td>
                    <td class="num">{formatCost(r.costMicros, r.currency)}</td>
                  </tr>
                </tfoot>
              </table>
            </div>
          )
        }
      </AsyncView>
    </Card>
  );
}

function IngestsCard({ filter, changes }: { filter: Filter; changes: number }) {
  const pager = usePager();
  useEffect(() => pager.reset(), [filter]);
  const st = useAsync(() => api.usage.listIngests({ filter, page: { pageSize: 20, pageToken: pager.token } }), [filter, pager.token]);
  useReloadOn(st, changes);
  return (
    <Card title="Ingests">
      <AsyncView state={st}>
        {(r) =>
          r.ingests.length === 0 ? (
            <Empty>No usage reports in this period.</Empty>
          ) : (
            <>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Received</th>
                      <th scope="col">Host</th>
                      <th scope="col" class="num">
                        Rows
                      </th>
                      <th scope="col" class="num">
                        Tokens
                      </th>
                      <th scope="col" class="num hide-narrow">
                        Cost
                      </th>
                      <th scope="col" class="hide-narrow">
                        Client IP
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.ingests.map((i) => (
                      <tr key={i.id}>
                        <td>
                          <Rel date={tsDate(i.recordedAt)} />
                        </td>
                        <td class="wrap">{i.hostId ? <a href={href('hosts', i.hostId)}>{i.hostId}</a> : <span class="muted">—</span>}</td>
                        <td class="num">
                          {formatCount(i.rowCount)}
                          {i.duplicateCount > 0 && <span class="muted small"> +{i.duplicateCount} dup</span>}
                          {i.errorCount > 0 && <span class="bad small"> {i.errorCount} bad</span>}
                        </td>
                        <td class="num">{formatTokens(i.totals?.totalTokens ?? 0n)}</td>
                        <td class="num hide-narrow">{formatCost(i.costMicros, r.currency)}</td>
                        <td class="hide-narrow">{i.clientIp || '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager pager={pager} nextToken={r.nextPageToken} />
            </>
          )
        }
      </AsyncView>
    </Card>
  );
}

function QuotaHistoryCard() {
  const pager = usePager();
  const st = useAsync(() => api.usage.listQuotaSnapshots({ page: { pageSize: 20, pageToken: pager.token } }), [pager.token]);
  const win = (w: { usedPercent: number } | undefined) => (w ? formatPercent(w.usedPercent) : '—');
  return (
    <Card title="Quota history">
      <AsyncView state={st}>
        {(r) =>
          r.snapshots.length === 0 ? (
            <Empty>No ChatGPT quota snapshots yet.</Empty>
          ) : (
            <>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Observed</th>
                      <th scope="col" class="num">
                        Primary
                      </th>
                      <th scope="col" class="num">
                        Weekly
                      </th>
                      <th scope="col">Limit reached</th>
                      <th scope="col" class="hide-narrow">
                        Plan
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.snapshots.map((q) => (
                      <tr key={q.id}>
                        <td>
                          <Rel date={tsDate(q.observedAt)} />
                        </td>
                        <td class="num">{win(q.primary)}</td>
                        <td class="num">{win(q.secondary)}</td>
                        <td>{q.limitReached ? 'yes' : 'no'}</td>
                        <td class="hide-narrow">{q.planType || '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager pager={pager} nextToken={r.nextPageToken} />
            </>
          )
        }
      </AsyncView>
    </Card>
  );
}
