import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from './api';

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
