// Pricing: the price snapshots usage is costed with (current per model, or the whole history),
// adding a snapshot from a date, deleting one, pulling the pricing URL now and pricing every
// stored row again after a change.

import { useState } from 'preact/hooks';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatCost, formatCount, formatDateTime, microsFromAmount, tsDate } from '../lib/format';
import { PriceSource, type PriceSnapshot } from '../gen/codexcentral/usage/v1/usage_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Field, Notice, PageHeader, Switch } from '../components/ui';

const SOURCES: Record<PriceSource, string> = {
  [PriceSource.UNSPECIFIED]: 'unknown',
  [PriceSource.DEFAULT]: 'shipped',
  [PriceSource.ADMIN]: 'admin',
  [PriceSource.PULL]: 'pricing URL',
  [PriceSource.IMPORT]: 'imported from the peer',
};

export function PricingPage() {
  const s = useSession();
  const [history, setHistory] = useState(false);
  const st = useAsync(() => api.usage.listPrices({ includeHistory: history }), [history]);
  const act = useAction();
  const [done, setDone] = useState<string>();
  const run = async (fn: () => Promise<string | undefined>) => {
    setDone(undefined);
    const said = await act.run(fn);
    if (said) setDone(said);
    st.reload();
  };
  return (
    <div>
      <PageHeader title="Pricing">
        {s.canWrite && (
          <>
            <button
              type="button"
              class="secondary"
              disabled={act.busy}
              onClick={() =>
                run(async () => {
                  const r = await api.usage.syncPricing({});
                  return `Pulled the pricing URL: ${formatCount(r.added)} new snapshot${r.added === 1 ? '' : 's'}.`;
                })
              }
            >
              Pull pricing URL now
            </button>
            <ConfirmButton
              label="Recompute costs"
              class="secondary"
              title="Price every stored usage row again?"
              message={<p>Each row gets the price in force at its time; day totals follow. This reads every row once.</p>}
              confirmLabel="Recompute"
              onConfirm={() =>
                run(async () => {
                  const r = await api.usage.recomputeCosts({});
                  return `Recomputed: ${formatCount(r.rowsChanged)} of ${formatCount(r.rowsExamined)} rows changed.`;
                })
              }
            />
          </>
        )}
      </PageHeader>
      <ErrorNote message={act.error} />
      {done && <Notice kind="ok">{done}</Notice>}
      {s.canWrite && <NewPriceCard onDone={st.reload} />}
      <Card title={history ? 'All price snapshots' : 'Prices in force'}>
        <Switch label="Show superseded snapshots" checked={history} onChange={setHistory} />
        <AsyncView state={st}>
          {(r) =>
            r.prices.length === 0 ? (
              <Empty>No prices yet: every model is unpriced (cost 0, flagged) until one is added.</Empty>
            ) : (
              <PriceTable
                prices={r.prices}
                canWrite={s.canWrite}
                busy={act.busy}
                onDelete={(p) =>
                  run(async () => {
                    await api.usage.deletePriceSnapshot({ id: p.id });
                    return `Deleted the ${p.model} price (effective ${effective(p)}).`;
                  })
                }
              />
            )
          }
        </AsyncView>
      </Card>
    </div>
  );
}

function PriceTable({
  prices,
  canWrite,
  busy,
  onDelete,
}: {
  prices: PriceSnapshot[];
  canWrite: boolean;
  busy: boolean;
  onDelete: (p: PriceSnapshot) => void;
}) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">Prices per 1M tokens</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col" class="num">Input / 1M</th>
            <th scope="col" class="num hide-narrow">Cached input / 1M</th>
            <th scope="col" class="num">Output / 1M</th>
            <th scope="col" class="hide-narrow">Effective from</th>
            <th scope="col" class="hide-narrow">Source</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {prices.map((p) => (
            <tr key={p.id}>
              <td class="wrap">
                <strong>{p.model}</strong>
              </td>
              <td class="num">{formatCost(p.inputPerMillionMicros, p.currency)}</td>
              <td class="num hide-narrow">{formatCost(p.cachedInputPerMillionMicros, p.currency)}</td>
              <td class="num">{formatCost(p.outputPerMillionMicros, p.currency)}</td>
              <td class="hide-narrow">{effective(p)}</td>
              <td class="hide-narrow">
                <Badge kind={p.source === PriceSource.ADMIN ? 'info' : 'neutral'}>{SOURCES[p.source] ?? 'unknown'}</Badge>
              </td>
              <td>
                {canWrite && (
                  <ConfirmButton
                    label="Delete"
                    class="danger small"
                    title={`Delete the ${p.model} price (effective ${effective(p)})?`}
                    message={<p>Rows keep their stored cost until costs are recomputed.</p>}
                    confirmLabel="Delete price"
                    danger
                    disabled={busy}
                    onConfirm={() => onDelete(p)}
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Shipped defaults apply from the epoch: to every row, whatever its time. */
function effective(p: PriceSnapshot): string {
  const at = tsDate(p.effectiveAt);
  return at ? formatDateTime(at) : 'always';
}

const EMPTY = { model: '', input: '', cached: '', output: '', currency: 'USD', effective: '' };

function NewPriceCard({ onDone }: { onDone: () => void }) {
  const [f, setF] = useState(EMPTY);
  const [invalid, setInvalid] = useState<string>();
  const act = useAction();
  const text = (key: 'model' | 'input' | 'cached' | 'output' | 'currency', label: string, hint?: string) => (
    <Field label={label} hint={hint}>
      {(id) => (
        <input
          id={id}
          type="text"
          inputMode={key === 'model' || key === 'currency' ? undefined : 'decimal'}
          required={key !== 'cached'}
          autocomplete="off"
          value={f[key]}
          onInput={(e) => setF({ ...f, [key]: (e.currentTarget as HTMLInputElement).value })}
        />
      )}
    </Field>
  );
  return (
    <Card title="Add a price">
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          const input = microsFromAmount(f.input);
          const output = microsFromAmount(f.output);
          const cached = f.cached.trim() === '' ? input : microsFromAmount(f.cached);
          if (input === undefined || output === undefined || cached === undefined) {
            setInvalid('Prices are amounts per 1M tokens such as 1.25 (at most six decimals).');
            return;
          }
          setInvalid(undefined);
          const r = await act.run(() =>
            api.usage.createPriceSnapshot({
              model: f.model.trim(),
              inputPerMillionMicros: input,
              cachedInputPerMillionMicros: cached,
              outputPerMillionMicros: output,
              currency: f.currency.trim().toUpperCase(),
              effectiveAt: f.effective ? timestampFromDate(new Date(f.effective)) : undefined,
            }),
          );
          if (r?.price) {
            setF(EMPTY);
            onDone();
          }
        }}
      >
        <div class="row">
          {text('model', 'Model')}
          {text('input', 'Input per 1M')}
          {text('cached', 'Cached input per 1M', 'empty: the input price')}
          {text('output', 'Output per 1M')}
          {text('currency', 'Currency', 'ISO 4217, e.g. USD')}
          <Field label="Effective from" hint="empty: now">
            {(id) => <input id={id} type="datetime-local" value={f.effective} onInput={(e) => setF({ ...f, effective: (e.currentTarget as HTMLInputElement).value })} />}
          </Field>
        </div>
        <ErrorNote message={invalid ?? act.error} />
        <button type="submit" class="primary" disabled={act.busy}>
          Add price
        </button>
      </form>
    </Card>
  );
}
