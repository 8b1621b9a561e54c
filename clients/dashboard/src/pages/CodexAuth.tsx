// The canonical Codex auth.json: account, plan, claims, expiry, refresh and validation state;
// refresh now, validate, upload, seed command, per-host sync state.

import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatDateTime, shortDigest, tsDate } from '../lib/format';
import { href } from '../lib/route';
import {
  CodexAuthMode,
  RefreshTokenCustody,
  StoreCodexAuthStatus,
  ValidationState,
  type CodexAuthSummary,
} from '../gen/codexcentral/auth/v1/auth_pb';
import type { SeedToken } from '../gen/codexcentral/fleet/v1/fleet_pb';
import { AsyncView, Badge, Card, Countdown, Empty, ErrorNote, Facts, Field, Notice, PageHeader, Pager, Rel, SecretBox, usePager } from '../components/ui';

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function validationBadge(state: ValidationState | undefined) {
  switch (state) {
    case ValidationState.OK:
      return <Badge kind="ok">valid</Badge>;
    case ValidationState.FAILED:
      return <Badge kind="bad">failed</Badge>;
    case ValidationState.SKIPPED:
      return <Badge kind="neutral">skipped</Badge>;
    default:
      return <Badge kind="neutral">not checked</Badge>;
  }
}

export function AuthStateBadge({ summary }: { summary: CodexAuthSummary }) {
  const r = summary.refresh;
  if (!r) return <span class="muted">—</span>;
  if (r.needsNewAuthJson) return <Badge kind="bad">needs a new auth.json</Badge>;
  if (r.lastError) return <Badge kind="warn">last refresh failed</Badge>;
  if (r.lastSuccessAt) return <Badge kind="ok">refreshed</Badge>;
  return <Badge kind="neutral">not refreshed by the server</Badge>;
}

const modeLabel = (m: CodexAuthMode | undefined) =>
  m === CodexAuthMode.CHATGPT ? 'ChatGPT' : m === CodexAuthMode.API_KEY ? 'API key' : '—';

const STORE_STATUS: Record<number, string> = {
  [StoreCodexAuthStatus.UPDATED]: 'stored as the canonical copy',
  [StoreCodexAuthStatus.UNCHANGED]: 'identical to the canonical copy',
  [StoreCodexAuthStatus.OUTDATED]: 'older than the canonical copy: not stored',
};

export function CodexAuthPage() {
  const s = useSession();
  const st = useAsync(() => api.codexAuth.getCodexAuthStatus({}), []);
  const act = useAction();
  const [note, setNote] = useState<string>();

  const refresh = async () => {
    setNote(undefined);
    const r = await act.run(() => api.codexAuth.refreshCodexAuth({ force: true }));
    if (r) setNote(`Refresh: ${r.outcome}${r.summary?.refresh?.lastError ? ` (${r.summary.refresh.lastError})` : ''}`);
    st.reload();
  };
  const validate = async () => {
    setNote(undefined);
    const r = await act.run(() => api.codexAuth.validateCodexAuth({ runProbe: true }));
    if (r) {
      const v = r.validation;
      const state = v && v.state !== ValidationState.UNSPECIFIED ? ValidationState[v.state].toLowerCase() : 'nothing to validate';
      setNote(`Validation: ${state}${v?.reason ? ` (${v.reason})` : ''}`);
    }
    st.reload();
  };

  return (
    <div>
      <PageHeader title="Canonical auth">
        {s.canWrite && (
          <>
            <button type="button" class="secondary" disabled={act.busy} onClick={refresh}>
              Refresh now
            </button>
            <button type="button" class="secondary" disabled={act.busy} onClick={validate}>
              Validate
            </button>
          </>
        )}
      </PageHeader>
      <ErrorNote message={act.error} />
      {note && <Notice>{note}</Notice>}
      <AsyncView state={st}>
        {(r) => {
          const a = r.summary;
          if (!a?.present)
            return (
              <Card title="Status">
                <Empty>No canonical auth.json yet. Upload one below, use a seed command, or let a host store its own.</Empty>
              </Card>
            );
          const c = a.claims;
          const v = a.lastValidation;
          const rf = a.refresh;
          return (
            <div class="grid two">
              <Card title="Account">
                <Facts
                  items={[
                    ['Mode', modeLabel(c?.mode)],
                    ['Email', c?.email || '—'],
                    ['Plan', c?.planType || '—'],
                    ['Account id', <code>{c?.accountId || '—'}</code>],
                    ['ChatGPT user', <code>{c?.chatgptUserId || '—'}</code>],
                    ['Access token expires', <Rel date={tsDate(c?.accessTokenExpiresAt)} />],
                    ['ID token expires', <Rel date={tsDate(c?.idTokenExpiresAt)} />],
                  ]}
                />
              </Card>
              <Card title="Copy">
                <Facts
                  items={[
                    ['Digest', <code title={a.digest}>{shortDigest(a.digest)}</code>],
                    ['last_refresh', a.lastRefreshText || '—'],
                    ['Stored', <Rel date={tsDate(a.storedAt)} />],
                    ['Source', a.sourceHostId ? <a href={href('hosts', a.sourceHostId)}>host {a.sourceHostId}</a> : 'admin, seed or server refresh'],
                    [
                      'Refresh token custody',
                      a.refreshTokenCustody === RefreshTokenCustody.SERVER
                        ? 'server only (hosts get a placeholder)'
                        : a.refreshTokenCustody === RefreshTokenCustody.SHARED
                          ? 'shared with hosts'
                          : '—',
                    ],
                  ]}
                />
              </Card>
              <Card title="Validation">
                <Facts
                  items={[
                    ['State', validationBadge(v?.state)],
                    ['Reason', v?.reason || '—'],
                    ['Checked', <Rel date={tsDate(v?.checkedAt)} />],
                    ['Probe ran', v?.probeRan ? `yes, ${v.latencyMs} ms` : 'no'],
                  ]}
                />
              </Card>
              <Card title="Server refresh">
                <Facts
                  items={[
                    ['State', <AuthStateBadge summary={a} />],
                    ['Last attempt', <Rel date={tsDate(rf?.lastAttemptAt)} />],
                    ['Last success', <Rel date={tsDate(rf?.lastSuccessAt)} />],
                    ['Next due', rf?.nextDueAt ? <Rel date={tsDate(rf.nextDueAt)} /> : 'not scheduled'],
                    ['Last error', rf?.lastError ? `${rf.lastError}${rf.lastErrorCode ? ` (${rf.lastErrorCode})` : ''}` : '—'],
                    ['Failures in a row', String(rf?.consecutiveFailures ?? 0)],
                  ]}
                />
              </Card>
              <Card title="Masked document" class="span-2">
                <pre class="code" tabIndex={0}>{prettyJson(a.maskedAuthJson) || '—'}</pre>
              </Card>
            </div>
          );
        }}
      </AsyncView>
      {s.canWrite && <UploadCard onDone={st.reload} />}
      {s.canWrite && <SeedCard />}
      <HostStatesCard />
    </div>
  );
}

function UploadCard({ onDone }: { onDone: () => void }) {
  const [text, setText] = useState('');
  const [dryRun, setDryRun] = useState(false);
  const act = useAction();
  const [result, setResult] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setResult(undefined);
    const r = await act.run(() => api.codexAuth.uploadCodexAuth({ authJson: text, dryRun }));
    if (r) {
      setResult(dryRun ? 'Valid: nothing was stored (dry run).' : `Upload ${STORE_STATUS[r.status] ?? 'done'}.`);
      if (!dryRun) {
        setText('');
        onDone();
      }
    }
  };
  const readFile = async (e: Event) => {
    const f = (e.currentTarget as HTMLInputElement).files?.[0];
    if (f) setText(await f.text());
  };
  return (
    <Card title="Upload an auth.json">
      <form onSubmit={submit} class="form">
        <Field label="auth.json file">{(id) => <input id={id} type="file" accept=".json,application/json" onChange={readFile} />}</Field>
        <Field label="or paste its JSON">
          {(id) => (
            <textarea id={id} rows={6} class="mono" value={text} spellcheck={false} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
          )}
        </Field>
        <div class="switch-row">
          <input id="upload-dry" type="checkbox" checked={dryRun} onChange={(e) => setDryRun((e.currentTarget as HTMLInputElement).checked)} />
          <label for="upload-dry">Only validate (dry run)</label>
        </div>
        <ErrorNote message={act.error} />
        {result && <Notice kind="ok">{result}</Notice>}
        <button type="submit" class="primary" disabled={act.busy || !text.trim()}>
          {dryRun ? 'Validate' : 'Upload'}
        </button>
      </form>
    </Card>
  );
}

function SeedCard() {
  const act = useAction();
  const [seed, setSeed] = useState<SeedToken>();
  const create = async () => {
    const r = await act.run(() => api.fleet.createSeedToken({}));
    if (r?.seed) setSeed(r.seed);
  };
  return (
    <Card title="Seed from a trusted machine">
      <p class="small">A single-use command that uploads ~/.codex/auth.json from the machine it runs on.</p>
      <ErrorNote message={act.error} />
      {seed ? (
        <>
          <SecretBox label="Seed command" value={seed.command} />
          <p class="small">
            Expires in <Countdown until={tsDate(seed.expiresAt)} /> ({formatDateTime(tsDate(seed.expiresAt))}).
          </p>
        </>
      ) : (
        <button type="button" class="secondary" disabled={act.busy} onClick={create}>
          Create a seed command
        </button>
      )}
    </Card>
  );
}

function HostStatesCard() {
  const pager = usePager();
  const st = useAsync(() => api.codexAuth.listHostAuthStates({ page: { pageSize: 25, pageToken: pager.token } }), [pager.token]);
  return (
    <Card title="Host sync state">
      <AsyncView state={st}>
        {(r) =>
          r.states.length === 0 ? (
            <Empty>No host has synced its auth.json yet.</Empty>
          ) : (
            <>
              <div class="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Host</th>
                      <th scope="col">Digest seen</th>
                      <th scope="col">When</th>
                      <th scope="col">In sync</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.states.map((h) => (
                      <tr key={h.hostId}>
                        <td>
                          <a href={href('hosts', h.hostId)}>{h.hostId}</a>
                        </td>
                        <td>
                          <code title={h.seenDigest}>{shortDigest(h.seenDigest)}</code>
                        </td>
                        <td>
                          <Rel date={tsDate(h.seenAt)} />
                        </td>
                        <td>{h.inSync ? <Badge kind="ok">yes</Badge> : <Badge kind="warn">no</Badge>}</td>
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
