// Memories: the most recent first (paginated), full-text search, one memory in full; for
// staff, the MCP access log.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { formatBytes, tsDate } from '../lib/format';
import { href, type Route } from '../lib/route';
import { Role } from '../gen/codexcentral/common/v1/common_pb';
import { MemoryOwnerKind, type Memory } from '../gen/codexcentral/memory/v1/memory_pb';
import { McpLogCard } from './McpLog';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Facts, Field, PageHeader, Pager, Rel, usePager } from '../components/ui';

function ownerText(m: Memory): string {
  const o = m.owner;
  if (!o) return '—';
  if (o.kind === MemoryOwnerKind.FLEET) return 'fleet (shared)';
  const kind = o.kind === MemoryOwnerKind.HOST ? 'host' : 'user';
  return `${kind} ${o.name || o.id}`;
}

function excerpt(text: string, n = 160): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

export function MemoriesPage({ route }: { route: Route }) {
  const selected = route.rest[0];
  return selected ? <MemoryView recordId={selected} /> : <MemoryList />;
}

function MemoryList() {
  const staff = useSession().role !== Role.MEMBER;
  const [text, setText] = useState('');
  const [query, setQuery] = useState('');
  const [tag, setTag] = useState('');
  const pager = usePager();
  useEffect(() => pager.reset(), [query, tag]);
  const tags = tag.trim() ? [tag.trim()] : [];
  const st = useAsync(
    async () => {
      if (query) {
        const r = await api.memory.searchMemories({ query, tags, limit: 50 });
        return { memories: r.matches, next: '' };
      }
      const r = await api.memory.listMemories({ tags, page: { pageSize: 25, pageToken: pager.token } });
      return { memories: r.memories, next: r.nextPageToken };
    },
    [query, tag, pager.token],
  );
  return (
    <div>
      <PageHeader title="Memories" />
      <Card>
        <form
          class="filters"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setQuery(text.trim());
          }}
        >
          <Field label="Search memories">
            {(id) => <input id={id} type="search" placeholder="words to find" value={text} onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)} />}
          </Field>
          <Field label="Tag">
            {(id) => <input id={id} type="text" placeholder="any tag" value={tag} onChange={(e) => setTag((e.currentTarget as HTMLInputElement).value)} />}
          </Field>
          <button type="submit" class="secondary">
            Search
          </button>
          {query && (
            <button
              type="button"
              class="link"
              onClick={() => {
                setText('');
                setQuery('');
              }}
            >
              Clear search
            </button>
          )}
        </form>
        <AsyncView state={st} label="Loading memories…">
          {(r) =>
            r.memories.length === 0 ? (
              <Empty>{query ? `No memory matches “${query}”.` : 'No memories stored yet.'}</Empty>
            ) : (
              <>
                <ul class="memories">
                  {r.memories.map((m) => (
                    <li key={m.recordId}>
                      <a href={href('memories', m.recordId)} class="memory-title">
                        {m.title || m.id}
                      </a>
                      {m.score !== undefined && <span class="muted small"> · score {m.score.toFixed(2)}</span>}
                      <div class="small muted">
                        {ownerText(m)} · updated <Rel date={tsDate(m.updatedAt)} />
                      </div>
                      <p class="excerpt">{excerpt(m.content)}</p>
                      {m.tags.length > 0 && (
                        <span class="badges">
                          {m.tags.map((t) => (
                            <Badge key={t}>{t}</Badge>
                          ))}
                        </span>
                      )}
                    </li>
                  ))}
                </ul>
                {!query && <Pager pager={pager} nextToken={r.next} />}
              </>
            )
          }
        </AsyncView>
      </Card>
      {staff && <McpLogCard />}
    </div>
  );
}

function MemoryView({ recordId }: { recordId: string }) {
  const s = useSession();
  const act = useAction();
  // Staff read any memory by its global id; members find their own in their list.
  const staff = s.role !== Role.MEMBER;
  const st = useAsync(async () => {
    if (staff) {
      const r = await api.memory.retrieveMemory({ recordId });
      return r.found ? (r.memory ?? null) : null;
    }
    const r = await api.memory.listMemories({ page: { pageSize: 200 } });
    return r.memories.find((x) => x.recordId === recordId) ?? null;
  }, [recordId]);
  const m = st.data ?? undefined;
  return (
    <div>
      <PageHeader title={m ? m.title || m.id : 'Memory'}>
        <a href={href('memories')}>← Memories</a>
      </PageHeader>
      <ErrorNote message={act.error} />
      {!m ? (
        <AsyncView state={st}>{() => <Empty>Memory not found.</Empty>}</AsyncView>
      ) : (
        <div class="grid two">
          <Card title="Content" class="span-2">
            <pre class="code wrap-text" tabIndex={0}>{m.content}</pre>
          </Card>
          <Card title="About">
            <Facts
              items={[
                ['Id', <code>{m.id}</code>],
                ['Record', <code>{m.recordId}</code>],
                ['Owner', ownerText(m)],
                ['Size', formatBytes(new TextEncoder().encode(m.content).length)],
                ['Created', <Rel date={tsDate(m.createdAt)} />],
                ['Updated', <Rel date={tsDate(m.updatedAt)} />],
                ['Tags', m.tags.length ? m.tags.join(', ') : '—'],
              ]}
            />
          </Card>
          <Card title="Metadata">
            <pre class="code" tabIndex={0}>{m.metadataJson && m.metadataJson !== '{}' ? m.metadataJson : '—'}</pre>
            {s.canWrite && (
              <ConfirmButton
                label="Delete memory"
                title="Delete this memory?"
                message={<p>Hosts and people stop finding it. This cannot be undone.</p>}
                confirmLabel="Delete"
                danger
                onConfirm={async () => {
                  const r = await act.run(() => api.memory.deleteMemory({ recordId: m.recordId }));
                  if (r) window.location.hash = href('memories');
                }}
              />
            )}
          </Card>
        </div>
      )}
    </div>
  );
}
