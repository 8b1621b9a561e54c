// A time-series chart with uPlot (loaded on first use, so the first page stays small): axes
// with units, a legend, a tooltip at the cursor, resizing with its container. A table of the
// same numbers is offered for screen readers and keyboard users.

import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import { Loading, ErrorNote } from './ui';
import { formatDateTime } from '../lib/format';

export interface SeriesSpec {
  label: string;
  color: string;
  values: (number | null)[];
}

export interface ChartProps {
  title: string;
  /** x values: seconds since the epoch (UTC day starts). */
  xs: number[];
  series: SeriesSpec[];
  format: (v: number) => string;
  height?: number;
}

let uplotModule: Promise<typeof uPlot> | undefined;
function loadUplot(): Promise<typeof uPlot> {
  uplotModule ??= Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([m]) => m.default);
  return uplotModule;
}

function dayLabel(sec: number): string {
  return formatDateTime(new Date(sec * 1000)).slice(0, 10);
}

/** Draws a tooltip box next to the cursor with the hovered day's values. */
function tooltipPlugin(format: (v: number) => string): uPlot.Plugin {
  let tip: HTMLDivElement;
  return {
    hooks: {
      init: (u) => {
        tip = document.createElement('div');
        tip.className = 'chart-tip';
        tip.setAttribute('aria-hidden', 'true');
        tip.style.display = 'none';
        u.over.appendChild(tip);
        u.over.addEventListener('mouseleave', () => (tip.style.display = 'none'));
      },
      setCursor: (u) => {
        const i = u.cursor.idx;
        if (i == null || u.cursor.left == null || u.cursor.left < 0) {
          tip.style.display = 'none';
          return;
        }
        const rows = u.series
          .slice(1)
          .map((s, k) => {
            const v = u.data[k + 1][i];
            return s.show === false ? '' : `<div><span class="sw" data-k="${k}"></span>${s.label}: <b>${v == null ? '—' : format(v)}</b></div>`;
          })
          .join('');
        tip.innerHTML = `<div class="tip-day">${dayLabel(u.data[0][i])}</div>${rows}`;
        // Swatch colours through the CSSOM (no style attributes under the CSP).
        tip.querySelectorAll<HTMLSpanElement>('span.sw').forEach((el) => {
          const s = u.series[Number(el.dataset.k) + 1];
          el.style.background = String(s.stroke && typeof s.stroke === 'function' ? s.stroke(u, 0) : s.stroke);
        });
        tip.style.display = 'block';
        const left = u.cursor.left + 12;
        const flip = left + 180 > u.over.clientWidth;
        tip.style.left = flip ? `${Math.max(0, u.cursor.left - 190)}px` : `${left}px`;
        tip.style.top = `${Math.max(0, (u.cursor.top ?? 0) - 10)}px`;
      },
    },
  };
}

export function Chart({ title, xs, series, format, height = 260 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string>();
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let plot: uPlot | undefined;
    let observer: ResizeObserver | undefined;
    let cancelled = false;
    loadUplot().then(
      (UPlot) => {
        if (cancelled || !box.current) return;
        const el = box.current;
        const width = Math.max(280, el.clientWidth);
        const axisStroke = getComputedStyle(el).getPropertyValue('--text-muted').trim() || '#667';
        const gridStroke = getComputedStyle(el).getPropertyValue('--border').trim() || '#ddd';
        const opts: uPlot.Options = {
          width,
          height,
          title: undefined,
          plugins: [tooltipPlugin(format)],
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true } },
          axes: [
            {
              stroke: axisStroke,
              grid: { stroke: gridStroke, width: 1 },
              ticks: { stroke: gridStroke },
              values: (_u, splits) => splits.map((s) => dayLabel(s).slice(5)),
            },
            {
              stroke: axisStroke,
              grid: { stroke: gridStroke, width: 1 },
              ticks: { stroke: gridStroke },
              size: 64,
              values: (_u, splits) => splits.map((v) => format(v)),
            },
          ],
          series: [
            { label: 'Day', value: (_u, v) => (v == null ? '—' : dayLabel(v)) },
            ...series.map((s) => ({
              label: s.label,
              stroke: s.color,
              width: 2,
              points: { show: xs.length < 40 },
              value: (_u: uPlot, v: number | null) => (v == null ? '—' : format(v)),
            })),
          ],
        };
        plot = new UPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
        setReady(true);
        observer = new ResizeObserver(() => {
          const w = Math.max(280, el.clientWidth);
          if (plot && Math.abs(plot.width - w) > 2) plot.setSize({ width: w, height });
        });
        observer.observe(el);
      },
      (e: unknown) => setError(`The chart could not load: ${String(e)}`),
    );
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [xs, series, format, height]);

  return (
    <figure class="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      {error && <ErrorNote message={error} />}
      {!ready && !error && <Loading label="Drawing the chart…" />}
      <div class="chart-box" ref={box} role="img" aria-label={`${title}: a line chart; the same numbers are in the table below`} />
      <details class="chart-table">
        <summary>Show as a table</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Day</th>
                {series.map((s) => (
                  <th scope="col" class="num" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {xs.map((x, i) => (
                <tr key={x}>
                  <th scope="row">{dayLabel(x)}</th>
                  {series.map((s) => (
                    <td class="num" key={s.label}>
                      {s.values[i] == null ? '—' : format(s.values[i] as number)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
