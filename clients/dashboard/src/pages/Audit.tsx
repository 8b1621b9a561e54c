// The audit log, newest first, filtered by actor / action / target, one page at a time.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAsync } from '../lib/hooks';
import { formatDateTime, tsDate } from '../lib/format';
import { AsyncView, Card, Empty, Field, PageHeader, Pager, Rel, usePager } from '../components/ui';

function prettyJson(text: string): string {
  if (!text) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function AuditPage() {
  const [form, setForm] = useState({ actor: '', action: '', target: '' });
  const [filter, setFilter] = useState(form);
  const pager = usePager();
  useEffect(() => pager.reset(), [filter]);
  const st = useAsync(() => api.fleet.listAuditEvents({ ...filter, page: { pageSize: 50, pageToken: pager.token } }), [filter, pager.token]);
  const field = (key: keyof typeof form, label: string, placeholder: string) => (
    <Field label={label}>
      {(id) => <input id={id} type="text" placeholder={placeholder} value={form[key]} onInput={(e) => setForm({ ...form, [key]: (e.currentTarget as HTMLInputElement).value })} />}
    </Field>
  );
  return (
    <div>
      <PageHeader title="Audit log" />
      <Card>
        <form
          class="filters"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setFilter({ actor: form.actor.trim(), action: form.action.trim(), target: form.target.trim() });
          }}
        >
          {field('actor', 'Actor', 'admin')}
          {field('action', 'Action', 'host.register')}
          {field('target', 'Target', 'host or user')}
          <button type="submit" class="secondary">
            Filter
          </button>
        </form>
        <AsyncView state={st} label="Loading the audit log…">
          {(r) =>
            r.events.length === 0 ? (
              <Empty>No audit events{filter.actor || filter.action || filter.target ? ' match these filters' : ' yet'}.</Empty>
            ) : (
              <>
                <div class="table-wrap">
                  <table class="audit">
                    <thead>
                      <tr>
                        <th scope="col">When</th>
                        <th scope="col">Actor</th>
                        <th scope="col">Action</th>
                        <th scope="col" class="hide-narrow">
                          Target
                        </th>
                        <th scope="col" class="hide-narrow">
                          IP
                        </th>
                        <th scope="col" class="hide-narrow">
                          Details
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.events.map((e) => (
                        <tr key={e.id}>
                          <td title={formatDateTime(tsDate(e.at))}>
                            <Rel date={tsDate(e.at)} />
                          </td>
                          <td class="wrap">{e.actor}</td>
                          <td>
                            <code>{e.action}</code>
                          </td>
                          <td class="wrap hide-narrow">{e.target || '—'}</td>
                          <td class="hide-narrow">{e.clientIp || '—'}</td>
                          <td class="hide-narrow">
                            {e.detailsJson && e.detailsJson !== '{}' ? (
                              <details>
                                <summary>Show</summary>
                                <pre class="code small" tabIndex={0}>{prettyJson(e.detailsJson)}</pre>
                              </details>
                            ) : (
                              '—'
                            )}
                          </td>
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
    </div>
  );
}
