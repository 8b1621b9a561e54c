// Small building blocks every page uses: states (loading, empty, error), cards, switches,
// copy buttons, confirmation dialogs, pagers, relative times, bars.

import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { formatCountdown, formatDateTime, formatRelative } from '../lib/format';
import { useNow } from '../lib/hooks';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

export function ErrorNote({ message, onRetry }: { message: string | undefined; onRetry?: () => void }) {
  if (!message) return null;
  return (
    <div class="state error" role="alert">
      <span>{message}</span>
      {onRetry && (
        <button type="button" class="secondary small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Notice({ children, kind = 'info' }: { children: ComponentChildren; kind?: 'info' | 'ok' | 'warn' }) {
  return (
    <div class={`notice ${kind}`} role="status">
      {children}
    </div>
  );
}

/** Loading / error / content in one place: loading only before the first answer. */
export function AsyncView<T>({
  state,
  children,
  label,
}: {
  state: { data: T | undefined; error: string | undefined; loading: boolean; reload: () => void };
  children: (data: T) => ComponentChildren;
  label?: string;
}) {
  if (state.data === undefined) {
    if (state.error) return <ErrorNote message={state.error} onRetry={state.reload} />;
    return <Loading label={label} />;
  }
  return (
    <>
      {state.error && <ErrorNote message={`Refresh failed: ${state.error}`} onRetry={state.reload} />}
      {children(state.data)}
    </>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · codex-central`;
  }, [title]);
  return (
    <div class="page-header">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      {children && <div class="actions">{children}</div>}
    </div>
  );
}

export function Card({
  title,
  children,
  actions,
  class: cls,
}: {
  title?: string;
  children: ComponentChildren;
  actions?: ComponentChildren;
  class?: string;
}) {
  const id = useId();
  return (
    <section class={`card ${cls ?? ''}`} aria-labelledby={title ? id : undefined}>
      {(title || actions) && (
        <div class="card-head">
          {title && <h2 id={id}>{title}</h2>}
          {actions && <div class="actions">{actions}</div>}
        </div>
      )}
      {children}
    </section>
  );
}

export function Stat({ label, value, hint }: { label: string; value: ComponentChildren; hint?: ComponentChildren }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {hint && <div class="stat-hint">{hint}</div>}
    </div>
  );
}

export function Badge({ kind = 'neutral', children }: { kind?: 'ok' | 'warn' | 'bad' | 'neutral' | 'info'; children: ComponentChildren }) {
  return <span class={`badge ${kind}`}>{children}</span>;
}

/** "3 min ago" with the absolute time as a tooltip; re-renders each 30 s. */
export function Rel({ date }: { date: Date | undefined }) {
  const now = useNow(30_000);
  if (!date) return <span class="muted">never</span>;
  return (
    <time dateTime={date.toISOString()} title={formatDateTime(date)}>
      {formatRelative(date, now)}
    </time>
  );
}

/** A labelled on/off switch (a checkbox with role=switch). */
export function Switch({
  label,
  checked,
  disabled,
  onChange,
  hint,
}: {
  label: string;
  checked: boolean;
  disabled?: boolean;
  onChange: (v: boolean) => void;
  hint?: string;
}) {
  const id = useId();
  return (
    <div class="switch-row">
      <input
        id={id}
        type="checkbox"
        role="switch"
        class="switch"
        checked={checked}
        disabled={disabled}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(e) => onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{label}</label>
      {hint && (
        <span id={`${id}-hint`} class="muted small">
          {hint}
        </span>
      )}
    </div>
  );
}

export function Field({
  label,
  children,
  hint,
}: {
  label: string;
  hint?: string;
  children: (id: string) => ComponentChildren;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id)}
      {hint && <span class="muted small">{hint}</span>}
    </div>
  );
}

/** Copies `text` with the Clipboard API; says so for a moment. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState<'' | 'ok' | 'fail'>('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('ok');
    } catch {
      setDone('fail');
    }
    window.setTimeout(() => setDone(''), 2000);
  };
  return (
    <button type="button" class="secondary small" onClick={copy} aria-live="polite">
      {done === 'ok' ? 'Copied' : done === 'fail' ? 'Copy failed: select the text' : label}
    </button>
  );
}

/** A secret or command shown once, selectable, with a copy button. */
export function SecretBox({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div class="secret-box">
      <div class="secret-head">
        <span class="secret-label">{label}</span>
        <CopyButton text={value} label={`Copy ${label.toLowerCase()}`} />
      </div>
      <code class="secret" data-testid={testId}>
        {value}
      </code>
    </div>
  );
}

/** Counts down to `until`; says "expired" after. */
export function Countdown({ until }: { until: Date | undefined }) {
  const now = useNow(1000);
  if (!until) return <span>—</span>;
  const left = (until.getTime() - now.getTime()) / 1000;
  return (
    <span class={left <= 0 ? 'bad' : left < 300 ? 'warn' : ''} role="timer" aria-live="off">
      {formatCountdown(left)}
    </span>
  );
}

/**
 * A button that opens a modal confirmation dialog (native <dialog>: focus stays inside, Escape
 * cancels) and runs `onConfirm` when confirmed.
 */
export function ConfirmButton({
  label,
  title,
  message,
  confirmLabel,
  danger,
  disabled,
  onConfirm,
  class: cls,
}: {
  label: string;
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  disabled?: boolean;
  onConfirm: () => void | Promise<unknown>;
  class?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [busy, setBusy] = useState(false);
  const open = () => ref.current?.showModal();
  const close = () => ref.current?.close();
  const confirm = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      close();
    }
  };
  return (
    <>
      <button type="button" class={cls ?? (danger ? 'danger' : 'secondary')} disabled={disabled} onClick={open}>
        {label}
      </button>
      <dialog ref={ref} aria-labelledby={`${id}-t`} aria-describedby={`${id}-m`} class="confirm">
        <form method="dialog" onSubmit={confirm}>
          <h2 id={`${id}-t`}>{title}</h2>
          <div id={`${id}-m`} class="dialog-body">
            {message}
          </div>
          <div class="dialog-actions">
            <button type="button" class="secondary" onClick={close} autofocus>
              Cancel
            </button>
            <button type="submit" class={danger ? 'danger' : 'primary'} disabled={busy}>
              {confirmLabel}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

/** Previous / next over page tokens; keeps the tokens of earlier pages in a stack. */
export function usePager(): {
  token: string;
  index: number;
  next: (t: string) => void;
  prev: () => void;
  reset: () => void;
} {
  const [stack, setStack] = useState<string[]>(['']);
  return {
    token: stack[stack.length - 1],
    index: stack.length - 1,
    next: (t) => setStack((s) => [...s, t]),
    prev: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset: () => setStack(['']),
  };
}

export function Pager({
  pager,
  nextToken,
  summary,
  label = 'Pages',
}: {
  pager: ReturnType<typeof usePager>;
  nextToken: string | undefined;
  summary?: ComponentChildren;
  /** Names the landmark; two pagers on one page need different names. */
  label?: string;
}) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" class="secondary small" disabled={pager.index === 0} onClick={pager.prev}>
        ← Previous
      </button>
      <span class="muted small">
        Page {pager.index + 1}
        {summary ? <> · {summary}</> : null}
      </span>
      <button type="button" class="secondary small" disabled={!nextToken} onClick={() => nextToken && pager.next(nextToken)}>
        Next →
      </button>
    </nav>
  );
}

/** A horizontal bar for a percentage (quota windows), with its text. */
export function Bar({ label, percent, hint }: { label: string; percent: number; hint?: ComponentChildren }) {
  const clamped = Math.max(0, Math.min(100, percent));
  const kind = percent >= 90 ? 'bad' : percent >= 70 ? 'warn' : 'ok';
  const fill = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Set through the CSSOM: the CSP forbids style attributes.
    if (fill.current) fill.current.style.width = `${clamped}%`;
  }, [clamped]);
  return (
    <div class="bar-row">
      <div class="bar-text">
        <span>{label}</span>
        <span>
          {percent.toFixed(1).replace(/\.0$/, '')} %{hint ? <span class="muted small"> · {hint}</span> : null}
        </span>
      </div>
      <div class="bar" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={clamped}>
        <div class={`bar-fill ${kind}`} ref={fill} />
      </div>
    </div>
  );
}

/** A definition list from pairs. */
export function Facts({ items }: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {items.map(([k, v]) => (
        <div class="fact" key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The end of a settings form: its error, "Saved." after a save, and (for writers) the button. */
export function SaveRow({ error, saved, busy, canWrite, label = 'Save' }: { error: string | undefined; saved: boolean; busy: boolean; canWrite: boolean; label?: string }) {
  return (
    <>
      <ErrorNote message={error} />
      {saved && <Notice kind="ok">Saved.</Notice>}
      {canWrite && (
        <button type="submit" class="primary" disabled={busy}>
          {label}
        </button>
      )}
    </>
  );
}

/** An inline error under a control; the control points at it with aria-describedby. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (!message) return null;
  return (
    <span id={id} class="field-error bad small" data-testid="field-error">
      {message}
    </span>
  );
}

/** What a control under [`CheckedField`] spreads on itself to point at its error. */
export type ErrorLink = { 'aria-invalid'?: boolean; 'aria-describedby'?: string };

/**
 * A labelled control with its hint and the server's error for it underneath; the control is
 * described by both and marked invalid while there is an error.
 */
export function CheckedField({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string;
  hint?: string;
  children: (id: string, a11y: ErrorLink) => ComponentChildren;
}) {
  const id = useId();
  const [hintId, errId] = [`${id}-hint`, `${id}-err`];
  const described = [hint ? hintId : '', error ? errId : ''].filter(Boolean).join(' ');
  const a11y: ErrorLink = {};
  if (error) a11y['aria-invalid'] = true;
  if (described) a11y['aria-describedby'] = described;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id, a11y)}
      {hint && (
        <span id={hintId} class="muted small">
          {hint}
        </span>
      )}
      <FieldError id={errId} message={error} />
    </div>
  );
}
