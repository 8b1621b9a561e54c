// Hosts: search and filters, one server-side page at a time (fast with 10,000 hosts).

import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatCount, tsDate } from '../lib/format';
import { href, type Route } from '../lib/route';
import { HostStatus, type Host } from '../gen/codexcentral/fleet/v1/fleet_pb';
import { AsyncView, Badge, Card, Empty, Field, PageHeader, Pager, Rel, usePager } from '../components/ui';

const PAGE_SIZE = 50;

export function hostBadges(h: Host) {
  return (
    <span class="badges">
      {h.status === HostStatus.DISABLED ? <Badge kind="bad">disabled</Badge> : <Badge kind="ok">active</Badge>}
      {!h.secure && <Badge kind="warn">insecure</Badge>}
      {h.vip && <Badge kind="info">VIP</Badge>}
      {h.allowRoamingIps && <Badge kind="neutral">roaming</Badge>}
      {h.temporary && <Badge kind="neutral">temporary</Badge>}
      {!h.provisioned && <Badge kind="neutral">not provisioned</Badge>}
    </span>
  );
}

export function HostsList({ route }: { route: Route }) {
  const s = useSession();
  const [query, setQuery] = useState(route.params.get('q') ?? '');
  const [debounced, setDebounced] = useState(query);
  const [status, setStatus] = useState<HostStatus>(HostStatus.UNSPECIFIED);
  const [insecureOnly, setInsecureOnly] = useState(false);
  const pager = usePager();

  useEffect(() => {
    const t = window.setTimeout(() => setDebounced(query.trim()), 250);
    return () => window.clearTimeout(t);
  }, [query]);
  useEffect(() => pager.reset(), [debounced, status, insecureOnly]);

  const st = useAsync(
    () => api.fleet.listHosts({ page: { pageSize: PAGE_SIZE, pageToken: pager.token }, query: debounced, status, insecureOnly }),
    [pager.token, debounced, status, insecureOnly],
    10_000,
  );

  return (
    <div>
      <PageHeader title="Hosts">
        {s.canWrite && (
          <a class="button primary" href={href('hosts', 'new')}>
            New host
          </a>
        )}
      </PageHeader>
      <Card>
        <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
          <Field label="Search by name">
            {(id) => (
              <input id={id} type="search" placeholder="fqdn contains…" value={query} onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} />
            )}
          </Field>
          <Field label="Status">
            {(id) => (
              <select id={id} value={String(status)} onChange={(e) => setStatus(Number((e.currentTarget as HTMLSelectElement).value) as HostStatus)}>
                <option value={String(HostStatus.UNSPECIFIED)}>Any</option>
                <option value={String(HostStatus.ACTIVE)}>Active</option>
                <option value={String(HostStatus.DISABLED)}>Disabled</option>
              </select>
            )}
          </Field>
          <div class="switch-row">
            <input id="insecure-only" type="checkbox" checked={insecureOnly} onChange={(e) => setInsecureOnly((e.currentTarget as HTMLInputElement).checked)} />
            <label for="insecure-only">Insecure only</label>
          </div>
        </form>
        <AsyncView state={st} label="Loading hosts…">
          {(r) =>
            r.hosts.length === 0 ? (
              <Empty>
                {debounced || status || insecureOnly ? 'No host matches these filters.' : 'No hosts registered yet.'}
                {s.canWrite && !debounced && (
                  <>
                    {' '}
                    <a href={href('hosts', 'new')}>Register a host</a>.
                  </>
                )}
              </Empty>
            ) : (
              <>
                <div class="table-wrap">
                  <table class="hosts">
                    <caption class="visually-hidden">Hosts</caption>
                    <thead>
                      <tr>
                        <th scope="col">Host</th>
                        <th scope="col" class="hide-narrow">
                          Status
                        </th>
                        <th scope="col" class="hide-narrow">
                          IP
                        </th>
                        <th scope="col" class="hide-narrow">
                          Codex
                        </th>
                        <th scope="col">Last seen</th>
                        <th scope="col" class="num hide-narrow">
                          API calls
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.hosts.map((h) => (
                        <tr key={h.id}>
                          <td class="wrap">
                            <a href={href('hosts', h.id)}>{h.fqdn}</a>
                            <div class="show-narrow">{hostBadges(h)}</div>
                          </td>
                          <td class="hide-narrow">{hostBadges(h)}</td>
                          <td class="hide-narrow">{h.ip || <span class="muted">unbound</span>}</td>
                          <td class="hide-narrow">
                            {h.clientVersion || <span class="muted">—</span>}
                            {h.clientVersionOverride && <span class="muted small"> (pinned {h.clientVersionOverride})</span>}
                          </td>
                          <td>
                            <Rel date={tsDate(h.lastSeenAt)} />
                          </td>
                          <td class="num hide-narrow">{formatCount(h.apiCalls)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pager pager={pager} nextToken={r.nextPageToken} summary={`${formatCount(r.totalCount)} hosts`} />
              </>
            )
          }
        </AsyncView>
      </Card>
    </div>
  );
}
