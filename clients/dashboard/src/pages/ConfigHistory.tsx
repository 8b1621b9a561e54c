// Config builder, version history (#/config/history): every saved version of the fleet template
// and its profiles (paged), one version's baked files, a unified diff of two versions, and
// restoring an old version as the newest. The version table, the diff view and the save-status
// wording are shared with the requirements and content views.

import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, formatCount, shortDigest, tsDate } from '../lib/format';
import { href } from '../lib/route';
import { ContentWriteStatus, type ConfigTemplateDocument } from '../gen/codexcentral/config/v1/config_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Facts, Field, Notice, Pager, Rel, usePager } from '../components/ui';

export const VERSION_PAGE = 20;

const WRITE_STATUS: Record<number, string> = {
  [ContentWriteStatus.CREATED]: 'Saved (first version).',
  [ContentWriteStatus.UPDATED]: 'Saved.',
  [ContentWriteStatus.UNCHANGED]: 'Nothing changed.',
  [ContentWriteStatus.PROPOSED]: 'Stored as a proposal.',
};

/** What a save answered, for the notice after it. */
export function writeStatusText(status: ContentWriteStatus): string {
  return WRITE_STATUS[status] ?? 'Saved.';
}

/**
 * A version number typed by a person: a positive integer, `0` for a blank field when `blank`
 * is allowed (the RPCs read 0 as "the current version"), otherwise `undefined`.
 */
export function parseVersion(text: string, blank = false): number | undefined {
  const t = text.trim().replace(/^v/i, '');
  if (t === '') return blank ? 0 : undefined;
  if (!/^\d{1,9}$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 ? n : undefined;
}

/** What restoring answered: a new version, or the same one when it was already current. */
export function restoreText(from: number, before: number | undefined, after: number): string {
  if (before !== undefined && after === before) return `Version ${from} is what is current already: nothing changed.`;
  return `Restored version ${from} as version ${after}.`;
}

// ---- Unified diffs

export type DiffLineKind = 'add' | 'del' | 'ctx' | 'hunk' | 'note';

export interface DiffLine {
  kind: DiffLineKind;
  /** The line without its leading marker ("+", "-" or " "); hunk headers and notes whole. */
  text: string;
}

export interface DiffFile {
  from: string;
  to: string;
  lines: DiffLine[];
  added: number;
  removed: number;
}

/**
 * Splits a unified diff (several files, `---`/`+++` headers, `@@` hunks) into files and
 * lines. Hunk line counts decide where a hunk ends, so a removed line that itself starts with
 * "-- " is not mistaken for the next file's header.
 */
export function parseUnifiedDiff(diff: string): DiffFile[] {
  const lines = diff.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const files: DiffFile[] = [];
  let file: DiffFile | undefined;
  let oldLeft = 0;
  let newLeft = 0;
  const open = (from: string, to: string) => {
    file = { from, to, lines: [], added: 0, removed: 0 };
    files.push(file);
    return file;
  };
  const name = (header: string) => header.slice(4).split('\t')[0].trim();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (oldLeft > 0 || newLeft > 0) {
      const f = file ?? open('', '');
      const marker = line[0];
      if (marker === '+') {
        f.lines.push({ kind: 'add', text: line.slice(1) });
        f.added++;
        newLeft--;
      } else if (marker === '-') {
        f.lines.push({ kind: 'del', text: line.slice(1) });
        f.removed++;
        oldLeft--;
      } else if (marker === '\\') {
        f.lines.push({ kind: 'note', text: line });
      } else {
        f.lines.push({ kind: 'ctx', text: line.slice(1) });
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      open(name(line), name(lines[i + 1]));
      i++;
      continue;
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      (file ?? open('', '')).lines.push({ kind: 'hunk', text: line });
      continue;
    }
    if (line !== '') (file ?? open('', '')).lines.push({ kind: 'note', text: line });
  }
  return files;
}

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** "2 files changed: 3 lines added, 1 removed". */
export function diffSummary(files: DiffFile[]): string {
  const added = files.reduce((n, f) => n + f.added, 0);
  const removed = files.reduce((n, f) => n + f.removed, 0);
  return `${plural(files.length, 'file')} changed: ${plural(added, 'line')} added, ${formatCount(removed)} removed`;
}

/** "config.toml (v3 → v5)" when both sides name the same file under a version folder. */
export function diffFileLabel(f: DiffFile): string {
  const split = (p: string) => {
    const i = p.indexOf('/');
    return i > 0 ? [p.slice(0, i), p.slice(i + 1)] : ['', p];
  };
  const [a, fileA] = split(f.from);
  const [b, fileB] = split(f.to);
  if (fileA === fileB && a && b) return `${fileA} (${a} → ${b})`;
  return `${f.from} → ${f.to}`;
}

function DiffRow({ line }: { line: DiffLine }) {
  // The sign and a hidden word carry the meaning; the colour only repeats it.
  switch (line.kind) {
    case 'add':
      return (
        <ins class="diff-line add">
          <span class="visually-hidden">Added: </span>
          <span aria-hidden="true">+ </span>
          {line.text}
        </ins>
      );
    case 'del':
      return (
        <del class="diff-line del">
          <span class="visually-hidden">Removed: </span>
          <span aria-hidden="true">− </span>
          {line.text}
        </del>
      );
    case 'hunk':
      return <span class="diff-line hunk">{line.text}</span>;
    case 'note':
      return <span class="diff-line note">{line.text}</span>;
    default:
      return <span class="diff-line">{`  ${line.text}`}</span>;
  }
}

/** A unified diff as files with added and removed lines marked by sign, word and colour. */
export function DiffView({ diff, same = 'Both versions bake the same files.' }: { diff: string; same?: string }) {
  const files = parseUnifiedDiff(diff);
  if (files.length === 0) return <Empty>{same}</Empty>;
  return (
    <div data-testid="config-diff">
      <p class="small">{diffSummary(files)}</p>
      {files.map((f, i) => (
        <figure class="diff-file" key={i}>
          <figcaption>
            <code>{diffFileLabel(f)}</code>{' '}
            <span class="muted small">
              +{formatCount(f.added)} −{formatCount(f.removed)}
            </span>
          </figcaption>
          <pre class="code diff" tabIndex={0}>
            {f.lines.map((l, j) => (
              <Fragment key={j}>
                <DiffRow line={l} />
                {'\n'}
              </Fragment>
            ))}
          </pre>
        </figure>
      ))}
    </div>
  );
}

// ---- Version tables

export interface VersionRow {
  version: number;
  updatedAt?: Timestamp;
  updatedBy: string;
  note?: string;
  sizeBytes: bigint;
  sha256: string;
}

/** Saved versions, newest first; `current` gets a badge, `actions` fills the last column. */
export function VersionTable({
  caption,
  rows,
  current,
  actions,
}: {
  caption: string;
  rows: VersionRow[];
  current?: number;
  actions?: (v: VersionRow) => ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Saved</th>
            <th scope="col" class="hide-narrow">
              By
            </th>
            <th scope="col" class="hide-narrow">
              Note
            </th>
            <th scope="col" class="num">
              Size
            </th>
            <th scope="col" class="hide-narrow">
              sha256
            </th>
            {actions && (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((v) => (
            <tr key={v.version}>
              <th scope="row">
                v{v.version} {v.version === current && <Badge kind="info">current</Badge>}
              </th>
              <td>
                <Rel date={tsDate(v.updatedAt)} />
              </td>
              <td class="hide-narrow wrap">{v.updatedBy || '—'}</td>
              <td class="hide-narrow wrap">{v.note || '—'}</td>
              <td class="num">{formatBytes(v.sizeBytes)}</td>
              <td class="hide-narrow">
                <code>{shortDigest(v.sha256)}</code>
              </td>
              {actions && (
                <td>
                  <span class="button-row">{actions(v)}</span>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// ---- The view

/** Brings a card opened from a table row into view (it opens below a long table). */
function useRevealed<T extends HTMLElement>(when: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (when !== undefined) ref.current?.scrollIntoView?.({ block: 'start' });
  }, [when]);
  return ref;
}

export function ConfigHistory() {
  const s = useSession();
  const pager = usePager();
  const cur = useAsync(() => api.config.getConfigTemplate({}), []);
  const list = useAsync(() => api.config.listConfigVersions({ page: { pageSize: VERSION_PAGE, pageToken: pager.token } }), [pager.token]);
  const [viewing, setViewing] = useState<number>();
  const [compare, setCompare] = useState<{ from: number; to: number }>();
  const [restored, setRestored] = useState<{ text: string; doc: ConfigTemplateDocument }>();
  const act = useAction();
  const current = cur.data?.document;

  const restore = async (version: number) => {
    setRestored(undefined);
    const before = current?.version;
    const r = await act.run(() => api.config.restoreConfigVersion({ version, expectedSha256: current?.sha256 ?? '' }));
    if (r?.document) setRestored({ text: restoreText(version, before, r.document.version), doc: r.document });
    cur.reload();
    if (pager.index === 0) list.reload();
    else pager.reset();
  };

  return (
    <>
      <Card title="Config versions">
        <p class="small muted">
          Every save of the template or a profile is a version. Restoring one saves it again as the newest; hosts get it on their next sync.
        </p>
        <ErrorNote message={act.error} />
        {restored && (
          <div data-testid="restore-result">
            <Notice kind="ok">
              {restored.text} <a href={href('config')}>Open the template</a>
            </Notice>
            <details>
              <summary>The config.toml now in force (version {restored.doc.version})</summary>
              <pre class="code" tabIndex={0}>
                {restored.doc.renderedToml}
              </pre>
            </details>
          </div>
        )}
        <AsyncView state={list} label="Loading versions…">
          {(r) =>
            r.versions.length === 0 && pager.index === 0 ? (
              <Empty>No version yet: the first save of the template makes version 1.</Empty>
            ) : (
              <VersionTable
                caption="Config versions, newest first"
                rows={r.versions}
                current={current?.version}
                actions={(v) => (
                  <>
                    <button type="button" class="secondary small" aria-label={`View version ${v.version}`} onClick={() => setViewing(v.version)}>
                      View
                    </button>
                    {v.version !== current?.version && (
                      <button type="button" class="secondary small" aria-label={`Compare version ${v.version} with the current one`} onClick={() => setCompare({ from: v.version, to: 0 })}>
                        Compare
                      </button>
                    )}
                    {s.canWrite && v.version !== current?.version && (
                      <ConfirmButton
                        label="Restore"
                        class="secondary small"
                        title={`Restore version ${v.version}?`}
                        message={<p>It is saved again as the newest version; every host receives it on its next sync. Nothing is lost: the current version stays in the history.</p>}
                        confirmLabel="Restore"
                        disabled={act.busy}
                        onConfirm={() => restore(v.version)}
                      />
                    )}
                  </>
                )}
              />
            )
          }
        </AsyncView>
        <Pager pager={pager} nextToken={list.data?.nextPageToken} label="Config version pages" />
      </Card>
      {viewing !== undefined && <VersionCard version={viewing} onClose={() => setViewing(undefined)} />}
      <CompareCard key={compare ? `${compare.from}-${compare.to}` : 'none'} initial={compare} current={current?.version} />
    </>
  );
}

function VersionCard({ version, onClose }: { version: number; onClose: () => void }) {
  const st = useAsync(() => api.config.getConfigVersion({ version }), [version]);
  const ref = useRevealed<HTMLDivElement>(version);
  return (
    <div ref={ref}>
      <Card
        title={`Version ${version}`}
        actions={
          <button type="button" class="secondary small" onClick={onClose}>
            Close
          </button>
        }
      >
        <AsyncView state={st} label={`Loading version ${version}…`}>
          {(r) => (
            <div data-testid="config-version">
              {r.document && (
                <Facts
                  items={[
                    ['Saved', <Rel date={tsDate(r.document.updatedAt)} />],
                    ['By', r.document.updatedBy || '—'],
                    ['Note', r.document.note || '—'],
                    ['config.toml', `${formatBytes(r.document.sizeBytes)} · sha256 ${shortDigest(r.document.sha256)}`],
                    ['Profiles', r.profiles.length ? r.profiles.map((p) => p.name).join(', ') : 'none'],
                  ]}
                />
              )}
              {r.files.length === 0 ? (
                <Empty>This version bakes no files.</Empty>
              ) : (
                r.files.map((f, i) => (
                  <details key={f.filename} open={i === 0}>
                    <summary>
                      <code>{f.filename}</code>
                    </summary>
                    <pre class="code" tabIndex={0}>
                      {f.content}
                    </pre>
                  </details>
                ))
              )}
            </div>
          )}
        </AsyncView>
      </Card>
    </div>
  );
}

function CompareCard({ initial, current }: { initial?: { from: number; to: number }; current?: number }) {
  const [from, setFrom] = useState(initial ? String(initial.from) : '');
  const [to, setTo] = useState(initial?.to ? String(initial.to) : '');
  const [asked, setAsked] = useState(initial);
  const [invalid, setInvalid] = useState<string>();
  const st = useAsync(
    () => (asked ? api.config.diffConfigVersions({ fromVersion: asked.from, toVersion: asked.to }) : Promise.resolve(null)),
    [asked?.from, asked?.to],
  );
  const ref = useRevealed<HTMLDivElement>(initial?.from);
  return (
    <div ref={ref}>
      <Card title="Compare versions">
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            const f = parseVersion(from);
            const t = parseVersion(to, true);
            if (f === undefined || t === undefined) {
              setInvalid('Version numbers are whole numbers from 1 (leave "To" blank for the current version).');
              return;
            }
            setInvalid(undefined);
            setAsked({ from: f, to: t });
          }}
        >
          <Field label="From version">
            {(id) => <input id={id} type="text" inputMode="numeric" autocomplete="off" required placeholder="1" value={from} onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />}
          </Field>
          <Field label="To version">
            {(id) => (
              <input id={id} type="text" inputMode="numeric" autocomplete="off" placeholder={current ? `current (${current})` : 'current'} value={to} onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
            )}
          </Field>
          <button type="submit" class="primary">
            Show diff
          </button>
        </form>
        <ErrorNote message={invalid} />
        {asked && (
          <div aria-live="polite">
            <p class="small muted">
              Changes from version {asked.from} to {asked.to ? `version ${asked.to}` : 'the current version'}:
            </p>
            <AsyncView state={st} label="Comparing…">
              {(r) => r && <DiffView diff={r.diff} />}
            </AsyncView>
          </div>
        )}
      </Card>
    </div>
  );
}
