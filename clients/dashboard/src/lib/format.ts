// Numbers, sizes, money and times as people read them: tokens as "1.2 M", cost in the pricing
// currency from micros, bytes in KiB/MiB, times relative to now ("3 min ago").

import type { Timestamp } from '@bufbuild/protobuf/wkt';

type Num = number | bigint;

const toNumber = (n: Num): number => (typeof n === 'bigint' ? Number(n) : n);

/** Token counts: exact below 1,000, then k / M / B with one decimal (trailing .0 dropped). */
export function formatTokens(value: Num): string {
  const n = toNumber(value);
  const abs = Math.abs(n);
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const v = n / size;
      const text = v >= 100 || v <= -100 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '');
      return `${text} ${unit}`;
    }
  }
  return String(Math.round(n));
}

/** An integer with thousands separators. */
export function formatCount(value: Num): string {
  return new Intl.NumberFormat('en-US').format(toNumber(value));
}

/** Money given in micros (millionths of the currency unit). Small amounts keep 4 decimals. */
export function formatCost(micros: Num, currency = 'USD'): string {
  const amount = toNumber(micros) / 1e6;
  const small = amount !== 0 && Math.abs(amount) < 1;
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: currency || 'USD',
      minimumFractionDigits: 2,
      maximumFractionDigits: small ? 4 : 2,
    }).format(amount);
  } catch {
    // An unknown ISO code: the number and the code.
    return `${amount.toFixed(small ? 4 : 2)} ${currency}`;
  }
}

/** Bytes in binary units: "512 B", "1.5 KiB", "3.2 MiB". */
export function formatBytes(value: Num): string {
  let n = toNumber(value);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

/** A percentage with at most one decimal. */
export function formatPercent(value: number): string {
  return `${value.toFixed(1).replace(/\.0$/, '')} %`;
}

/** A proto Timestamp (or nothing) as a Date (or undefined). */
export function tsDate(ts: Timestamp | undefined): Date | undefined {
  if (!ts) return undefined;
  const ms = Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6);
  // The zero timestamp means "not set" for non-optional fields.
  return ms === 0 ? undefined : new Date(ms);
}

/** "just now", "3 min ago", "in 5 min", "2 h ago", "3 days ago", "in 2 months". */
export function formatRelative(date: Date | undefined, now: Date = new Date()): string {
  if (!date) return 'never';
  const diff = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(diff);
  if (abs < 45) return diff > 0 && abs >= 5 ? `in ${abs} s` : 'just now';
  const steps: [number, number, string, string][] = [
    [3600, 60, 'min', 'min'],
    [86400, 3600, 'h', 'h'],
    [86400 * 30, 86400, 'day', 'days'],
    [86400 * 365, 86400 * 30, 'month', 'months'],
    [Infinity, 86400 * 365, 'year', 'years'],
  ];
  for (const [limit, unit, one, many] of steps) {
    if (abs < limit) {
      const v = Math.max(1, Math.round(abs / unit));
      const text = `${v} ${v === 1 ? one : many}`;
      return diff > 0 ? `in ${text}` : `${text} ago`;
    }
  }
  return date.toISOString();
}

/** An absolute local time, "2026-12-05 11:55". */
export function formatDateTime(date: Date | undefined): string {
  if (!date) return '—';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}`;
}

/** A countdown as "29:59", "1:02:03", or "expired". */
export function formatCountdown(seconds: number): string {
  if (seconds <= 0) return 'expired';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const p = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${p(m)}:${p(sec)}` : `${m}:${p(sec)}`;
}

/** A digest shortened for tables: the first 12 hex characters. */
export function shortDigest(digest: string): string {
  return digest ? digest.slice(0, 12) : '—';
}

/**
 * An amount typed by a person ("2.5", "0.125", "1,250.00") in micros of the currency, or
 * `undefined` when it is not a non-negative number with at most six decimals. Decimal strings,
 * not floats, so 0.1 + 0.2 never becomes 300000.00000000006 micros.
 */
export function microsFromAmount(text: string): bigint | undefined {
  const m = /^(\d{1,12})(?:\.(\d{0,6}))?$/.exec(text.trim().replace(/,/g, ''));
  if (!m) return undefined;
  return BigInt(m[1]) * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0'));
}
