import { describe, expect, it } from 'vitest';
import { href, hrefWith, parseHash } from './route';

describe('parseHash', () => {
  it('reads the overview from an empty hash', () => {
    expect(parseHash('')).toMatchObject({ page: '', rest: [] });
    expect(parseHash('#/')).toMatchObject({ page: '', rest: [] });
  });
  it('reads pages, ids and query parameters', () => {
    const r = parseHash('#/hosts/42?q=build');
    expect(r.page).toBe('hosts');
    expect(r.rest).toEqual(['42']);
    expect(r.params.get('q')).toBe('build');
  });
  it('decodes segments and survives bad escapes', () => {
    expect(parseHash('#/memories/a%2Fb').rest).toEqual(['a/b']);
    expect(parseHash('#/memories/%E0%A4%A').rest).toEqual(['%E0%A4%A']);
  });
});

describe('href', () => {
  it('builds hash links that parse back', () => {
    expect(href('')).toBe('#/');
    expect(href('hosts', 'new')).toBe('#/hosts/new');
    const id = 'rec/1 2';
    expect(parseHash(href('memories', id)).rest).toEqual([id]);
  });
  it('adds non-empty query parameters only', () => {
    expect(hrefWith('usage', { host: '7', model: '' })).toBe('#/usage?host=7');
    expect(hrefWith('usage', {})).toBe('#/usage');
  });
});
