// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { retryDelay, useLive, type Live } from './hooks';

describe('retryDelay', () => {
  it('retries a clean end at once and backs off failures up to 30 s', () => {
    expect([0, 1, 2, 3, 5, 6, 20].map(retryDelay)).toEqual([0, 1000, 2000, 4000, 16000, 30000, 30000]);
  });
});

/** A stream the test feeds by hand: push values, then end or fail it. */
function manualStream<T>() {
  const queue: (IteratorResult<T> | Error)[] = [];
  let wake: (() => void) | undefined;
  const put = (item: IteratorResult<T> | Error) => {
    queue.push(item);
    wake?.();
  };
  const iterable: AsyncIterable<T> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        const item = queue.shift()!;
        if (item instanceof Error) throw item;
        return item;
      },
    }),
  };
  return {
    iterable,
    push: (value: T) => put({ value, done: false }),
    end: () => put({ value: undefined, done: true }),
    fail: (e: Error) => put(e),
  };
}

let root: HTMLElement;
let seen: Live<number>;
function Probe({ open }: { open: (s: AbortSignal) => AsyncIterable<number> }) {
  seen = useLive(open, []);
  return null;
}
// Lets the stream's promises settle and Preact apply the state (timers are faked).
const flush = () =>
  act(async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  root = document.createElement('div');
});
afterEach(() => {
  act(() => render(null, root));
  vi.useRealTimers();
});

describe('useLive', () => {
  it('shows each message, reconnects after an end and backs off after a failure', async () => {
    const streams: ReturnType<typeof manualStream<number>>[] = [];
    const signals: AbortSignal[] = [];
    const open = (signal: AbortSignal) => {
      const s = manualStream<number>();
      streams.push(s);
      signals.push(signal);
      return s.iterable;
    };
    act(() => render(<Probe open={open} />, root));
    expect(seen.loading).toBe(true);

    streams[0].push(1);
    await vi.advanceTimersByTimeAsync(0);
    await flush();
    expect(seen.data).toBe(1);
    expect(seen.updates).toBe(1);

    // The server ended the stream: a new one at once, the data stays.
    streams[0].end();
    await vi.advanceTimersByTimeAsync(0);
    await flush();
    expect(streams).toHaveLength(2);
    expect(seen.data).toBe(1);

    // A failure keeps the data, says so, and retries after a second.
    streams[1].fail(new Error('network down'));
    await vi.advanceTimersByTimeAsync(0);
    await flush();
    expect(seen.error).toContain('network down');
    expect(seen.data).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(streams).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(600);
    await flush();
    expect(streams).toHaveLength(3);
    streams[2].push(2);
    await vi.advanceTimersByTimeAsync(0);
    await flush();
    expect(seen.data).toBe(2);
    expect(seen.error).toBeUndefined();
    expect(seen.updates).toBe(2);

    // Unmounting aborts the open stream.
    act(() => render(null, root));
    expect(signals[2].aborted).toBe(true);
  });
});
