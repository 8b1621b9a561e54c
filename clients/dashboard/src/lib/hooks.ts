import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from './api';
import { fieldViolations, type FieldViolation } from './violations';

export interface Async<T> {
  data: T | undefined;
  /** The last failure's message; cleared by the next success. */
  error: string | undefined;
  /** True until the first answer (success or failure). */
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when `deps` change, and again every `pollMs` while the page is visible. A
 * refresh keeps the shown data; answers of superseded runs are dropped.
 */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], pollMs = 0): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const run = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(() => {
    const mine = ++run.current;
    loadRef.current().then(
      (data) => {
        if (mine === run.current) setState({ data, loading: false });
      },
      (e: unknown) => {
        if (mine === run.current) setState((s) => ({ data: s.data, error: errorMessage(e), loading: false }));
      },
    );
  }, []);

  useEffect(() => {
    setState({ loading: true });
    reload();
    if (!pollMs) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, pollMs);
    return () => window.clearInterval(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export interface Live<T> extends Async<T> {
  /** Messages received since `deps` last changed (0 until the first). */
  updates: number;
}

/** Reconnect delays after a stream failed: 1 s doubling to 30 s; a clean end retries at once. */
export function retryDelay(failures: number): number {
  return failures <= 0 ? 0 : Math.min(30_000, 1000 * 2 ** (failures - 1));
}

/**
 * Follows a server stream (a `Watch…` RPC): every message replaces the data. The server ends
 * streams now and then and when it restarts; this reconnects (backing off while it fails) until
 * `deps` change or the component goes away. `reload` reconnects at once.
 */
export function useLive<T>(open: (signal: AbortSignal) => AsyncIterable<T>, deps: unknown[]): Live<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean; updates: number }>({ loading: true, updates: 0 });
  const openRef = useRef(open);
  openRef.current = open;
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);

  useEffect(() => {
    const abort = new AbortController();
    let failures = 0;
    let timer: number | undefined;
    setState((s) => ({ data: s.data, loading: s.data === undefined, updates: 0 }));
    const connect = async () => {
      let received = false;
      try {
        for await (const message of openRef.current(abort.signal)) {
          received = true;
          failures = 0;
          setState((s) => ({ data: message, error: undefined, loading: false, updates: s.updates + 1 }));
        }
        // A stream that ends without a message is not worth reconnecting to at once.
        if (!received) failures++;
      } catch (e) {
        if (abort.signal.aborted) return;
        failures++;
        setState((s) => ({ ...s, error: errorMessage(e), loading: false }));
      }
      if (!abort.signal.aborted) timer = window.setTimeout(connect, retryDelay(failures));
    };
    void connect();
    return () => {
      abort.abort();
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, generation]);

  return { data: state.data, error: state.error, loading: state.loading, reload, updates: state.updates };
}

/** Reloads `state` (keeping what it shows) each time `changes` moves past 0. */
export function useReloadOn(state: { reload: () => void }, changes: number): void {
  useEffect(() => {
    if (changes > 0) state.reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [changes]);
}

/**
 * `useAction` for a form: a failed call's per-field violations (INVALID_ARGUMENT) also land in
 * `errs`, shaped by `toErrors` for the form's fields; the next call clears them.
 */
export function useFormAction<E>(toErrors: (v: FieldViolation[]) => E, empty: E) {
  const act = useAction();
  const [errs, setErrs] = useState<E>(empty);
  const run = <T,>(fn: () => Promise<T>) =>
    act.run(async () => {
      setErrs(empty);
      try {
        return await fn();
      } catch (e) {
        setErrs(toErrors(fieldViolations(e)));
        throw e;
      }
    });
  return { busy: act.busy, error: act.error, run, errs, setErrs };
}

/** The current time, ticking every `ms` (for countdowns and "3 min ago"). */
export function useNow(ms = 1000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = window.setInterval(() => setNow(new Date()), ms);
    return () => window.clearInterval(t);
  }, [ms]);
  return now;
}

/** An action's pending flag and last error, for buttons that call an RPC. */
export function useAction(): {
  busy: boolean;
  error: string | undefined;
  run: <T>(fn: () => Promise<T>) => Promise<T | undefined>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async <T,>(fn: () => Promise<T>) => {
    setBusy(true);
    setError(undefined);
    try {
      return await fn();
    } catch (e) {
      setError(errorMessage(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, clear: () => setError(undefined) };
}

/**
 * A settings card: loads the settings once, keeps an editable copy, stores it on submit and
 * says "saved" until the next edit. `save` answers the settings as stored.
 */
export function useSettingsForm<T>(load: () => Promise<T | undefined>, save: (value: T) => Promise<T | undefined>) {
  const st = useAsync(load, []);
  const [value, setValue] = useState<T>();
  const [saved, setSaved] = useState(false);
  const act = useAction();
  useEffect(() => {
    if (st.data && value === undefined) setValue(st.data);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [st.data]);
  const edit = (next: T) => {
    setValue(next);
    setSaved(false);
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    if (value === undefined) return;
    setSaved(false);
    const stored = await act.run(() => save(value));
    if (stored !== undefined) {
      setValue(stored);
      setSaved(true);
    }
  };
  return { st, value, edit, saved, busy: act.busy, error: act.error, submit };
}
