// My personal API tokens (m2c_…): create (the secret is shown once), list, revoke.

import { useState } from 'preact/hooks';
import { href } from '../lib/route';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { formatCost, tsDate } from '../lib/format';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { BudgetPeriod, PersonalTokenStatus, TokenPolicySchema, type PersonalToken, type TokenPolicy } from '../gen/codexcentral/auth/v1/auth_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Field, PageHeader, Rel, SecretBox } from '../components/ui';

const EXPIRY: [string, number][] = [
  ['Never', 0],
  ['7 days', 7 * 86400],
  ['30 days', 30 * 86400],
  ['90 days', 90 * 86400],
  ['1 year', 365 * 86400],
];

function statusBadge(s: PersonalTokenStatus) {
  switch (s) {
    case PersonalTokenStatus.ACTIVE:
      return <Badge kind="ok">active</Badge>;
    case PersonalTokenStatus.EXPIRED:
      return <Badge kind="warn">expired</Badge>;
    case PersonalTokenStatus.REVOKED:
      return <Badge kind="bad">revoked</Badge>;
    default:
      return <Badge>unknown</Badge>;
  }
}

export function policySummary(p: TokenPolicy | undefined): string {
  if (!p) return 'no limits';
  const parts: string[] = [];
  if (p.allowedModels.length) parts.push(`models: ${p.allowedModels.join(', ')}`);
  if (p.requestsPerMinute !== undefined) parts.push(`${p.requestsPerMinute} req/min`);
  if (p.tokensPerMinute !== undefined) parts.push(`${p.tokensPerMinute} tokens/min`);
  if (p.budgetMicros !== undefined && p.budgetPeriod !== BudgetPeriod.UNSPECIFIED) {
    parts.push(`${formatCost(p.budgetMicros)} per ${BudgetPeriod[p.budgetPeriod].toLowerCase()}`);
  }
  return parts.length ? parts.join(' · ') : 'no limits';
}

export function TokensPage() {
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const st = useAsync(() => api.tokens.listPersonalTokens({ includeRevoked, page: { pageSize: 100 } }), [includeRevoked]);
  const [created, setCreated] = useState<{ token?: PersonalToken; secret: string }>();
  const act = useAction();

  return (
    <div>
      <PageHeader title="My tokens" />
      <p class="small">
        Personal tokens let tools act as you (the <code>/v1</code> gateway, MCP, REST). Sessions, linked logins and BYOK keys are on{' '}
        <a href={href('account')}>My account</a>.
      </p>
      <CreateTokenCard
        onCreated={(c) => {
          setCreated(c);
          st.reload();
        }}
      />
      {created && (
        <Card title="New token" class="result">
          <p class="small">
            Copy <strong>{created.token?.name}</strong> now: it is not shown again.
          </p>
          <SecretBox label="Token" value={created.secret} testId="token-secret" />
          <button type="button" class="secondary small" onClick={() => setCreated(undefined)}>
            Done, hide it
          </button>
        </Card>
      )}
      <Card
        title="Tokens"
        actions={
          <div class="switch-row">
            <input id="tok-revoked" type="checkbox" checked={includeRevoked} onChange={(e) => setIncludeRevoked((e.currentTarget as HTMLInputElement).checked)} />
            <label for="tok-revoked">Show revoked</label>
          </div>
        }
      >
        <ErrorNote message={act.error} />
        <AsyncView state={st}>
          {(r) =>
            r.tokens.length === 0 ? (
              <Empty>No tokens yet.</Empty>
            ) : (
              <div class="table-wrap">
                <table class="tokens">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Status</th>
                      <th scope="col" class="hide-narrow">
                        Created
                      </th>
                      <th scope="col">Last used</th>
                      <th scope="col" class="hide-narrow">
                        Expires
                      </th>
                      <th scope="col" class="hide-narrow">
                        Limits
                      </th>
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.tokens.map((t) => (
                      <tr key={t.id}>
                        <td class="wrap">
                          {t.name}
                          <br />
                          <code class="muted small">{t.prefix}…</code>
                        </td>
                        <td>{statusBadge(t.status)}</td>
                        <td class="hide-narrow">
                          <Rel date={tsDate(t.createdAt)} />
                        </td>
                        <td>
                          <Rel date={tsDate(t.lastUsedAt)} />
                        </td>
                        <td class="hide-narrow">{t.expiresAt ? <Rel date={tsDate(t.expiresAt)} /> : 'never'}</td>
                        <td class="hide-narrow small">{policySummary(t.policy)}</td>
                        <td>
                          {t.status === PersonalTokenStatus.ACTIVE && (
                            <ConfirmButton
                              label="Revoke"
                              class="danger small"
                              title={`Revoke ${t.name}?`}
                              message={<p>Anything using this token stops working at once.</p>}
                              confirmLabel="Revoke token"
                              danger
                              onConfirm={async () => {
                                await act.run(() => api.tokens.revokePersonalToken({ id: t.id }));
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
    </div>
  );
}

function CreateTokenCard({ onCreated }: { onCreated: (c: { token?: PersonalToken; secret: string }) => void }) {
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState(0);
  const [models, setModels] = useState('');
  const [rpm, setRpm] = useState('');
  const [budget, setBudget] = useState('');
  const [period, setPeriod] = useState(BudgetPeriod.UNSPECIFIED);
  const act = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const policy: MessageInitShape<typeof TokenPolicySchema> = {
      allowedModels: models
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    };
    if (rpm.trim()) policy.requestsPerMinute = Number(rpm);
    if (budget.trim() && period !== BudgetPeriod.UNSPECIFIED) {
      policy.budgetPeriod = period;
      policy.budgetMicros = BigInt(Math.round(Number(budget) * 1e6));
    }
    const r = await act.run(() =>
      api.tokens.createPersonalToken({ name: name.trim(), expiresInSeconds: expiry ? BigInt(expiry) : undefined, policy }),
    );
    if (r) {
      setName('');
      onCreated({ token: r.token, secret: r.secret });
    }
  };
  return (
    <Card title="Create a token">
      <form class="form" onSubmit={submit}>
        <div class="row">
          <Field label="Token name">
            {(id) => <input id={id} type="text" maxLength={128} placeholder="laptop" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />}
          </Field>
          <Field label="Expires">
            {(id) => (
              <select id={id} value={String(expiry)} onChange={(e) => setExpiry(Number((e.currentTarget as HTMLSelectElement).value))}>
                {EXPIRY.map(([l, v]) => (
                  <option key={v} value={String(v)}>
                    {l}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <details>
          <summary>Limits (optional)</summary>
          <div class="row">
            <Field label="Allowed models (comma-separated; empty: all)">
              {(id) => <input id={id} type="text" value={models} onInput={(e) => setModels((e.currentTarget as HTMLInputElement).value)} />}
            </Field>
            <Field label="Requests per minute">
              {(id) => <input id={id} type="number" min={1} value={rpm} onInput={(e) => setRpm((e.currentTarget as HTMLInputElement).value)} />}
            </Field>
            <Field label="Budget (currency units)">
              {(id) => <input id={id} type="number" min={0} step="0.01" value={budget} onInput={(e) => setBudget((e.currentTarget as HTMLInputElement).value)} />}
            </Field>
            <Field label="Budget period">
              {(id) => (
                <select id={id} value={String(period)} onChange={(e) => setPeriod(Number((e.currentTarget as HTMLSelectElement).value))}>
                  <option value={String(BudgetPeriod.UNSPECIFIED)}>No budget</option>
                  <option value={String(BudgetPeriod.DAY)}>Day</option>
                  <option value={String(BudgetPeriod.WEEK)}>Week</option>
                  <option value={String(BudgetPeriod.MONTH)}>Month</option>
                </select>
              )}
            </Field>
          </div>
        </details>
        <ErrorNote message={act.error} />
        <button type="submit" class="primary" disabled={act.busy}>
          Create token
        </button>
      </form>
    </Card>
  );
}
