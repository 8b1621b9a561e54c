// Users: list with search, create, role, enable/disable, delete; the open-registration switch.

import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { tsDate } from '../lib/format';
import { Role } from '../gen/codexcentral/common/v1/common_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Field, PageHeader, Pager, Rel, Switch, usePager } from '../components/ui';

export function UsersPage() {
  const s = useSession();
  const [query, setQuery] = useState('');
  const [applied, setApplied] = useState('');
  const pager = usePager();
  useEffect(() => pager.reset(), [applied]);
  const st = useAsync(() => api.users.listUsers({ query: applied, includeDisabled: true, page: { pageSize: 50, pageToken: pager.token } }), [applied, pager.token]);
  const act = useAction();
  const run = async (fn: () => Promise<unknown>) => {
    await act.run(fn);
    st.reload();
  };
  return (
    <div>
      <PageHeader title="Users" />
      <RegistrationCard />
      {s.canWrite && <CreateUserCard onCreated={st.reload} />}
      <Card title="Accounts">
        <form
          class="filters"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            setApplied(query.trim());
          }}
        >
          <Field label="Search users">
            {(id) => <input id={id} type="search" value={query} onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} />}
          </Field>
          <button type="submit" class="secondary">
            Search
          </button>
        </form>
        <ErrorNote message={act.error} />
        <AsyncView state={st}>
          {(r) =>
            r.users.length === 0 ? (
              <Empty>No user matches.</Empty>
            ) : (
              <>
                <div class="table-wrap">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">User</th>
                        <th scope="col">Role</th>
                        <th scope="col">Enabled</th>
                        <th scope="col" class="hide-narrow">
                          Last login
                        </th>
                        <th scope="col">
                          <span class="visually-hidden">Actions</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {r.users.map((u) => (
                        <tr key={u.id}>
                          <td class="wrap">
                            <strong>{u.username}</strong>
                            {u.displayName && u.displayName !== u.username && <span class="muted"> · {u.displayName}</span>}
                            {!u.hasPassword && <Badge>external login</Badge>}
                          </td>
                          <td>
                            {s.canWrite ? (
                              <select
                                aria-label={`Role of ${u.username}`}
                                value={String(u.role)}
                                disabled={act.busy}
                                onChange={(e) => run(() => api.users.setUserRole({ id: u.id, role: Number((e.currentTarget as HTMLSelectElement).value) }))}
                              >
                                <option value={String(Role.ADMIN)}>admin</option>
                                <option value={String(Role.MEMBER)}>member</option>
                              </select>
                            ) : u.role === Role.ADMIN ? (
                              'admin'
                            ) : (
                              'member'
                            )}
                          </td>
                          <td>
                            <input
                              type="checkbox"
                              role="switch"
                              class="switch"
                              aria-label={`${u.username} enabled`}
                              checked={u.enabled}
                              disabled={!s.canWrite || act.busy}
                              onChange={(e) => run(() => api.users.setUserEnabled({ id: u.id, enabled: (e.currentTarget as HTMLInputElement).checked }))}
                            />
                          </td>
                          <td class="hide-narrow">
                            <Rel date={tsDate(u.lastLoginAt)} />
                          </td>
                          <td>
                            {s.canWrite && u.id !== s.principal.id && (
                              <ConfirmButton
                                label="Delete"
                                class="danger small"
                                title={`Delete ${u.username}?`}
                                message={<p>The account, its sessions and tokens are removed.</p>}
                                confirmLabel="Delete user"
                                danger
                                onConfirm={() => run(() => api.users.deleteUser({ id: u.id }))}
                              />
                            )}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <Pager pager={pager} nextToken={r.nextPageToken} />
              </>
            )
          }
        </AsyncView>
      </Card>
    </div>
  );
}

function RegistrationCard() {
  const s = useSession();
  const st = useAsync(() => api.users.getRegistrationPolicy({}), []);
  const act = useAction();
  const [open, setOpen] = useState<boolean>();
  useEffect(() => {
    if (st.data) setOpen(st.data.policy?.openRegistration ?? false);
  }, [st.data]);
  return (
    <Card title="Registration">
      <ErrorNote message={act.error} />
      {open === undefined ? (
        <AsyncView state={st}>{() => null}</AsyncView>
      ) : (
        <Switch
          label="Open registration"
          hint="anyone can create a member account at /admin/register"
          checked={open}
          disabled={!s.canWrite || act.busy}
          onChange={async (v) => {
            const r = await act.run(() => api.users.setRegistrationPolicy({ policy: { openRegistration: v } }));
            if (r) setOpen(r.policy?.openRegistration ?? v);
          }}
        />
      )}
    </Card>
  );
}

function CreateUserCard({ onCreated }: { onCreated: () => void }) {
  const [f, setF] = useState({ username: '', displayName: '', password: '', role: Role.MEMBER });
  const act = useAction();
  const [done, setDone] = useState<string>();
  return (
    <Card title="Add a user">
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          setDone(undefined);
          const r = await act.run(() => api.users.createUser(f));
          if (r?.user) {
            setDone(`Created ${r.user.username}.`);
            setF({ username: '', displayName: '', password: '', role: Role.MEMBER });
            onCreated();
          }
        }}
      >
        <div class="row">
          <Field label="Username">
            {(id) => <input id={id} type="text" required autocomplete="off" value={f.username} onInput={(e) => setF({ ...f, username: (e.currentTarget as HTMLInputElement).value })} />}
          </Field>
          <Field label="Display name">
            {(id) => <input id={id} type="text" value={f.displayName} onInput={(e) => setF({ ...f, displayName: (e.currentTarget as HTMLInputElement).value })} />}
          </Field>
          <Field label="Password (at least 8 characters)">
            {(id) => <input id={id} type="password" required minLength={8} autocomplete="new-password" value={f.password} onInput={(e) => setF({ ...f, password: (e.currentTarget as HTMLInputElement).value })} />}
          </Field>
          <Field label="Role">
            {(id) => (
              <select id={id} value={String(f.role)} onChange={(e) => setF({ ...f, role: Number((e.currentTarget as HTMLSelectElement).value) })}>
                <option value={String(Role.MEMBER)}>member</option>
                <option value={String(Role.ADMIN)}>admin</option>
              </select>
            )}
          </Field>
        </div>
        <ErrorNote message={act.error} />
        {done && <p class="notice ok">{done}</p>}
        <button type="submit" class="primary" disabled={act.busy}>
          Add user
        </button>
      </form>
    </Card>
  );
}
