// Recent `/mcp` calls (newest first): who called, which method and tool, the answer and how
// long it took; never the request's content. Staff only (the service enforces it).

import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAsync } from '../lib/hooks';
import { formatDateTime, tsDate } from '../lib/format';
import { AsyncView, Badge, Card, Empty, Switch } from '../components/ui';

export function McpLogCard() {
  const [errorsOnly, setErrorsOnly] = useState(false);
  const st = useAsync(() => api.memory.listMcpAccessLogs({ limit: 100, errorsOnly }), [errorsOnly], 15_000);
  return (
    <Card title="MCP access log">
      <Switch label="Failed calls only" checked={errorsOnly} onChange={setErrorsOnly} />
      <AsyncView state={st} label="Loading the MCP log…">
        {(r) =>
          r.logs.length === 0 ? (
            <Empty>{errorsOnly ? 'No failed MCP call.' : 'No MCP call yet: Codex reaches /mcp once a host or token is set up for it.'}</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Caller</th>
                    <th scope="col">Call</th>
                    <th scope="col">Answer</th>
                    <th scope="col" class="num hide-narrow">
                      Time
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.logs.map((l) => (
                    <tr key={l.id}>
                      <td>{formatDateTime(tsDate(l.at))}</td>
                      <td class="wrap">
                        {l.principalKind} {l.principalName || l.principalId}
                        {l.clientIp && <span class="muted small"> · {l.clientIp}</span>}
                      </td>
                      <td class="wrap">
                        <code>{l.method}</code>
                        {l.target && <span class="muted"> {l.target}</span>}
                      </td>
                      <td class="wrap">
                        <Badge kind={l.isError ? 'bad' : 'ok'}>{l.httpStatus || 'ok'}</Badge>
                        {l.error && <span class="bad small"> {l.error}</span>}
                      </td>
                      <td class="num hide-narrow">{l.durationMs} ms</td>
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
