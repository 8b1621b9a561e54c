import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCost,
  formatCount,
  formatCountdown,
  formatDateTime,
  formatPercent,
  formatRelative,
  formatTokens,
  microsFromAmount,
  shortDigest,
  tsDate,
} from './format';

describe('formatTokens', () => {
  it('keeps small counts exact', () => {
    expect(formatTokens(0)).toBe('0');
    expect(formatTokens(999)).toBe('999');
  });
  it('uses k, M, B with one decimal and drops .0', () => {
    expect(formatTokens(1000)).toBe('1 k');
    expect(formatTokens(1234)).toBe('1.2 k');
    expect(formatTokens(1_200_000)).toBe('1.2 M');
    expect(formatTokens(3_000_000_000n)).toBe('3 B');
    expect(formatTokens(250_000_000)).toBe('250 M');
  });
  it('accepts bigint', () => {
    expect(formatTokens(12_345_678n)).toBe('12.3 M');
  });
});

describe('formatCost', () => {
  it('converts micros to the currency', () => {
    expect(formatCost(1_230_000n)).toBe('$1.23');
    expect(formatCost(0)).toBe('$0.00');
    expect(formatCost(12_345_678_900n)).toBe('$12,345.68');
  });
  it('keeps four decimals below one unit', () => {
    expect(formatCost(32_700n)).toBe('$0.0327');
  });
  it('names other currencies and survives unknown codes', () => {
    expect(formatCost(2_500_000n, 'EUR')).toBe('€2.50');
    expect(formatCost(2_500_000n, 'XXXX')).toBe('2.50 XXXX');
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(65536n)).toBe('64 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MiB');
  });
});

describe('formatRelative', () => {
  const now = new Date('2026-12-05T12:00:00Z');
  const at = (s: number) => new Date(now.getTime() + s * 1000);
  it('says never for no date', () => expect(formatRelative(undefined, now)).toBe('never'));
  it('says just now for the last seconds', () => expect(formatRelative(at(-10), now)).toBe('just now'));
  it('counts minutes, hours, days into the past', () => {
    expect(formatRelative(at(-180), now)).toBe('3 min ago');
    expect(formatRelative(at(-7200), now)).toBe('2 h ago');
    expect(formatRelative(at(-86400), now)).toBe('1 day ago');
    expect(formatRelative(at(-3 * 86400), now)).toBe('3 days ago');
    expect(formatRelative(at(-60 * 86400), now)).toBe('2 months ago');
  });
  it('counts into the future', () => {
    expect(formatRelative(at(300), now)).toBe('in 5 min');
    expect(formatRelative(at(30), now)).toBe('in 30 s');
  });
});

describe('formatCountdown', () => {
  it('shows minutes and seconds, hours when needed, expired at zero', () => {
    expect(formatCountdown(1799.4)).toBe('29:59');
    expect(formatCountdown(3723)).toBe('1:02:03');
    expect(formatCountdown(0)).toBe('expired');
    expect(formatCountdown(-5)).toBe('expired');
  });
});

describe('small helpers', () => {
  it('formats counts, percents, digests and local times', () => {
    expect(formatCount(10000)).toBe('10,000');
    expect(formatPercent(42)).toBe('42 %');
    expect(formatPercent(42.25)).toBe('42.3 %');
    expect(shortDigest('a'.repeat(64))).toBe('aaaaaaaaaaaa');
    expect(shortDigest('')).toBe('—');
    expect(formatDateTime(undefined)).toBe('—');
    expect(formatDateTime(new Date(2026, 11, 5, 9, 7))).toBe('2026-12-05 09:07');
  });
  it('reads proto timestamps and treats zero as unset', () => {
    const ts = { $typeName: 'google.protobuf.Timestamp' as const, seconds: 1_764_936_000n, nanos: 500_000_000 };
    expect(tsDate(ts)?.toISOString()).toBe('2025-12-05T12:00:00.500Z');
    expect(tsDate({ ...ts, seconds: 0n, nanos: 0 })).toBeUndefined();
    expect(tsDate(undefined)).toBeUndefined();
  });
});

describe('microsFromAmount', () => {
  it('reads decimal amounts exactly', () => {
    expect(microsFromAmount('2.5')).toBe(2_500_000n);
    expect(microsFromAmount(' 0.125 ')).toBe(125_000n);
    expect(microsFromAmount('1,250.00')).toBe(1_250_000_000n);
    expect(microsFromAmount('0.000001')).toBe(1n);
    expect(microsFromAmount('10')).toBe(10_000_000n);
    expect(microsFromAmount('3.')).toBe(3_000_000n);
  });
  it('refuses what is not a plain non-negative amount', () => {
    for (const bad of ['', '-1', 'abc', '1e3', '0.0000001', '.5', '1.2.3', 'NaN']) {
      expect(microsFromAmount(bad)).toBeUndefined();
    }
  });
});
