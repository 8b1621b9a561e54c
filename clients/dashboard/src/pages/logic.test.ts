import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { GetCostHistoryResponseSchema } from '../gen/codexcentral/usage/v1/usage_pb';
import { BudgetPeriod, TokenPolicySchema } from '../gen/codexcentral/auth/v1/auth_pb';
import { csvHref, historySeries } from './Usage';
import { policySummary } from './Tokens';

describe('usage page logic', () => {
  it('links the streaming CSV export with the same filter', () => {
    const now = new Date('2026-12-05T12:00:00Z');
    expect(csvHref(7, '', '', now)).toBe('/api/v1/usage/export.csv?since=2026-11-28T12%3A00%3A00.000Z');
    expect(csvHref(30, '42', 'gpt-5.1', now)).toBe('/api/v1/usage/export.csv?since=2026-11-05T12%3A00%3A00.000Z&host_id=42&model=gpt-5.1');
  });

  it('turns cost history into chart series (five token kinds and cost)', () => {
    const r = create(GetCostHistoryResponseSchema, {
      currency: 'USD',
      points: [
        { day: { seconds: 86400n }, tokens: { totalTokens: 10n, inputTokens: 7n, cachedInputTokens: 2n, outputTokens: 3n, reasoningOutputTokens: 1n }, costMicros: 1_500_000n },
        { day: { seconds: 172800n }, costMicros: 0n },
      ],
    });
    const s = historySeries(r);
    expect(s.xs).toEqual([86400, 172800]);
    expect(s.tokens.map((x) => x.label)).toEqual(['Total', 'Input', 'Cached', 'Output', 'Reasoning']);
    expect(s.tokens.map((x) => x.values)).toEqual([[10, 0], [7, 0], [2, 0], [3, 0], [1, 0]]);
    expect(s.cost[0]).toMatchObject({ label: 'Cost (USD)', values: [1.5, 0] });
  });
});

describe('token policy summary', () => {
  it('says no limits for an empty policy', () => {
    expect(policySummary(undefined)).toBe('no limits');
    expect(policySummary(create(TokenPolicySchema, {}))).toBe('no limits');
  });
  it('lists models, rates and the budget', () => {
    const p = create(TokenPolicySchema, {
      allowedModels: ['gpt-5.1', 'o4'],
      requestsPerMinute: 60,
      budgetPeriod: BudgetPeriod.MONTH,
      budgetMicros: 25_000_000n,
    });
    expect(policySummary(p)).toBe('models: gpt-5.1, o4 · 60 req/min · $25.00 per month');
  });
});
