// Alerts: every budget and quota alert (newest first, active or not), acknowledging one, and
// for staff the webhook delivery log (each attempt's URL, status, timing and error).

import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatDateTime, tsDate } from '../lib/format';
import { Role } from '../gen/codexcentral/common/v1/common_pb';
import type { AlertDelivery, UsageAlert } from '../gen/codexcentral/usage/v1/usage_pb';
import { AsyncView, Badge, Card, Empty, ErrorNote, PageHeader, Pager, Rel, Switch, usePager } from '../components/ui';

const POLL_MS = 15_000;

export function AlertsPage() {
  const s = useSession();
  return (
    <div>
      <PageHeader title="Alerts" />
      <AlertList />
      {s.role !== Role.MEMBER && <Deliveries />}
    </div>
  );
}

function scopeText(a: UsageAlert): string {
  return a.scope === 'fleet' ? 'fleet' : `${a.scope} ${a.subjectId}`;
}

function AlertList() {
  const s = useSession();
  const [activeOnly, setActiveOnly] = useState(false);
  const pager = usePager();
  const st = useAsync(() => api.usage.listAlerts({ activeOnly, page: { pageSize: 50, pageToken: pager.token } }), [activeOnly, pager.token], POLL_MS);
  const act = useAction();
  const mayAck = s.canWrite || s.role === Role.MEMBER;
  return (
    <Card title="Budget and quota alerts">
      <Switch
        label="Active only"
        checked={activeOnly}
        onChange={(v) => {
          pager.reset();
          setActiveOnly(v);
        }}
      />
      <ErrorNote message={act.error} />
      <AsyncView state={st} label="Loading alerts…">
        {(r) =>
          r.alerts.length === 0 ? (
            <Empty>No alerts: no budget or quota threshold has been crossed{activeOnly ? ' in an open window' : ''}.</Empty>
          ) : (
            <>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Alert</th>
                      <th scope="col" class="hide-narrow">
                        Scope
                      </th>
                      <th scope="col" class="num">
                        Reading
                      </th>
                      <th scope="col">Raised</th>
                      <th scope="col">State</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.alerts.map((a) => (
                      <tr key={a.id}>
                        <td class="wrap">
                          <Badge kind={a.active ? 'warn' : 'neutral'}>{a.metric}</Badge> {a.message || `${a.threshold} % threshold`}
                        </td>
                        <td class="hide-narrow wrap">{scopeText(a)}</td>
                        <td class="num">
                          {a.percent.toFixed(1)} % <span class="muted small">/ {a.threshold} %</span>
                        </td>
                        <td>
                          <Rel date={tsDate(a.raisedAt)} />
                        </td>
                        <td>
                          {a.acknowledgedAt ? (
                            <span class="muted small">
                              seen {formatDateTime(tsDate(a.acknowledgedAt))}
                              {a.acknowledgedBy && ` by ${a.acknowledgedBy}`}
                            </span>
                          ) : a.active && mayAck ? (
                            <button
                              type="button"
                              class="secondary small"
                              disabled={act.busy}
                              onClick={async () => {
                                await act.run(() => api.usage.acknowledgeAlert({ id: a.id }));
                                st.reload();
                              }}
                            >
                              Acknowledge
                            </button>
                          ) : (
                            <span class="muted small">{a.active ? 'active' : 'window ended'}</span>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager pager={pager} nextToken={r.nextPageToken} label="Alert pages" />
            </>
          )
        }
      </AsyncView>
    </Card>
  );
}

function deliveryBadge(d: AlertDelivery) {
  const kind = d.status === 'delivered' ? 'ok' : d.status === 'pending' ? 'info' : 'bad';
  return <Badge kind={kind}>{d.status}</Badge>;
}

function Deliveries() {
  const pager = usePager();
  const st = useAsync(() => api.usage.listAlertDeliveries({ page: { pageSize: 50, pageToken: pager.token } }), [pager.token], POLL_MS);
  return (
    <Card title="Webhook deliveries">
      <p class="muted small">Each alert is posted to every configured webhook (signed with HMAC-SHA256) and retried with backoff; every attempt is a row.</p>
      <AsyncView state={st} label="Loading deliveries…">
        {(r) =>
          r.deliveries.length === 0 ? (
            <Empty>No webhook deliveries yet: none configured, or no alert raised since.</Empty>
          ) : (
            <>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Webhook</th>
                      <th scope="col">Status</th>
                      <th scope="col" class="num">
                        Attempt
                      </th>
                      <th scope="col" class="hide-narrow">
                        Answer
                      </th>
                      <th scope="col">When</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.deliveries.map((d) => (
                      <tr key={d.id}>
                        <td class="wrap">{d.url}</td>
                        <td>{deliveryBadge(d)}</td>
                        <td class="num">{d.attempt}</td>
                        <td class="hide-narrow wrap">
                          {d.statusCode !== undefined ? `HTTP ${d.statusCode}` : ''}
                          {d.error && <span class="bad small"> {d.error}</span>}
                          {d.durationMs > 0n && <span class="muted small"> · {String(d.durationMs)} ms</span>}
                        </td>
                        <td>
                          <Rel date={tsDate(d.attemptedAt ?? d.dueAt)} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager pager={pager} nextToken={r.nextPageToken} label="Delivery pages" />
            </>
          )
        }
      </AsyncView>
    </Card>
  );
}
