import { describe, expect, it } from 'vitest';
import { ContentWriteStatus } from '../gen/codexcentral/config/v1/config_pb';
import { diffFileLabel, diffSummary, parseUnifiedDiff, parseVersion, restoreText, writeStatusText } from './ConfigHistory';

// What the server's `similar` crate writes for two versions (two files, one hunk each).
const DIFF = [
  '--- v3/config.toml',
  '+++ v5/config.toml',
  '@@ -1,4 +1,4 @@',
  ' # codex-central',
  '-model = "gpt-5"',
  '+model = "gpt-5.1"',
  ' approval_policy = "on-request"',
  ' ',
  '--- v3/fast.config.toml',
  '+++ v5/fast.config.toml',
  '@@ -0,0 +1,2 @@',
  '+model = "o4"',
  '+sandbox_mode = "read-only"',
  '',
].join('\n');

describe('unified diff parsing', () => {
  it('splits files and marks added, removed and context lines', () => {
    const files = parseUnifiedDiff(DIFF);
    expect(files.map((f) => [f.from, f.to, f.added, f.removed])).toEqual([
      ['v3/config.toml', 'v5/config.toml', 1, 1],
      ['v3/fast.config.toml', 'v5/fast.config.toml', 2, 0],
    ]);
    expect(files[0].lines.map((l) => l.kind)).toEqual(['hunk', 'ctx', 'del', 'add', 'ctx', 'ctx']);
    expect(files[0].lines[2].text).toBe('model = "gpt-5"');
    expect(files[0].lines[3].text).toBe('model = "gpt-5.1"');
    expect(files[0].lines[5].text).toBe('');
  });

  it('keeps a removed "-- comment" line inside its hunk instead of starting a file', () => {
    const files = parseUnifiedDiff(['--- v1/a.md', '+++ v2/a.md', '@@ -1,2 +1,1 @@', '--- a rule', '++++ a header', '-gone', ''].join('\n'));
    expect(files).toHaveLength(1);
    expect(files[0].lines.map((l) => [l.kind, l.text])).toEqual([
      ['hunk', '@@ -1,2 +1,1 @@'],
      ['del', '-- a rule'],
      ['add', '+++ a header'],
      ['del', 'gone'],
    ]);
  });

  it('reads hunks without counts, "no newline" notes and tab-dated headers', () => {
    const files = parseUnifiedDiff('--- a/x\t2026-01-01\n+++ b/x\t2026-01-02\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n');
    expect(files[0].from).toBe('a/x');
    expect(files[0].lines.map((l) => l.kind)).toEqual(['hunk', 'del', 'note', 'add']);
  });

  it('gives nothing for an empty diff', () => {
    expect(parseUnifiedDiff('')).toEqual([]);
  });

  it('summarises and labels files', () => {
    const files = parseUnifiedDiff(DIFF);
    expect(diffSummary(files)).toBe('2 files changed: 3 lines added, 1 removed');
    expect(diffSummary(files.slice(0, 1))).toBe('1 file changed: 1 line added, 1 removed');
    expect(diffFileLabel(files[0])).toBe('config.toml (v3 → v5)');
    expect(diffFileLabel({ from: 'a', to: 'b', lines: [], added: 0, removed: 0 })).toBe('a → b');
  });
});

describe('version helpers', () => {
  it('reads typed version numbers', () => {
    expect(parseVersion('3')).toBe(3);
    expect(parseVersion(' v12 ')).toBe(12);
    expect(parseVersion('')).toBeUndefined();
    expect(parseVersion('', true)).toBe(0);
    expect(parseVersion('0')).toBeUndefined();
    expect(parseVersion('-1')).toBeUndefined();
    expect(parseVersion('1.5')).toBeUndefined();
  });

  it('says what a restore did', () => {
    expect(restoreText(2, 5, 6)).toBe('Restored version 2 as version 6.');
    expect(restoreText(5, 5, 5)).toBe('Version 5 is what is current already: nothing changed.');
  });

  it('words save statuses', () => {
    expect(writeStatusText(ContentWriteStatus.CREATED)).toBe('Saved (first version).');
    expect(writeStatusText(ContentWriteStatus.UNCHANGED)).toBe('Nothing changed.');
    expect(writeStatusText(ContentWriteStatus.UNSPECIFIED)).toBe('Saved.');
  });
});
