// Users: list with search, create, role, enable/disable, delete; edit a display name and reset a
// password (which signs the person out everywhere); the open-registration switch.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { useAction, useAsync } from '../lib/hooks';
import { useSession } from '../lib/session';
import { tsDate } from '../lib/format';
import { Role } from '../gen/codexcentral/common/v1/common_pb';
import type { User } from '../gen/codexcentral/auth/v1/auth_pb';
import { AsyncView, Badge, Card, ConfirmButton, Empty, ErrorNote, Field, Notice, PageHeader, Pager, Rel, SecretBox, Switch, usePager } from '../components/ui';
import { generatePassword, MIN_PASSWORD, passwordProblem } from '../lib/passwords';

export function UsersPage() {
  const s = useSession();
  const [query, setQuery] = useState('');
  const [applied, setApplied] = useState('');
  const pager = usePager();
  useEffect(() => pager.reset(), [applied]);
  const st = useAsync(() => api.users.listUsers({ query: applied, includeDisabled: true, page: { pageSize: 50, pageToken: pager.token } }), [applied, pager.token]);
  const act = useAction();
  const [editing, setEditing] = useState<User>();
  const run = async (fn: () => Promise<unknown>) => {
    await act.run(fn);
    st.reload();
  };
  return (
    <div>
      <PageHeader title="Users" />
      <RegistrationCard />
      {s.canWrite && <CreateUserCard onCreated={st.reload} />}
      {s.canWrite && editing && (
        <EditUserCard
          key={editing.id}
          user={editing}
          self={editing.id === s.principal.id}
          onChanged={(u) => {
            setEditing(u);
            st.reload();
          }}
          onClose={() => setEditing(undefined)}
        />
      )}
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
                            <div class="button-row">
                              {s.canWrite && (
                                <button type="button" class="secondary small" aria-label={`Edit ${u.username}`} aria-pressed={editing?.id === u.id} onClick={() => setEditing(u)}>
                                  Edit
                                </button>
                              )}
                              {s.canWrite && u.id !== s.principal.id && (
                                <ConfirmButton
                                  label="Delete"
                                  class="danger small"
                                  title={`Delete ${u.username}?`}
                                  message={<p>The account, its sessions and tokens are removed.</p>}
                                  confirmLabel="Delete user"
                                  danger
                                  onConfirm={() =>
                                    run(async () => {
                                      await api.users.deleteUser({ id: u.id });
                                      if (editing?.id === u.id) setEditing(undefined);
                                    })
                                  }
                                />
                              )}
                            </div>
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

/** The admin's editor for one person: display name, and a password reset that ends their sessions. */
function EditUserCard({ user, self, onChanged, onClose }: { user: User; self: boolean; onChanged: (u: User) => void; onClose: () => void }) {
  const [name, setName] = useState(user.displayName);
  const [password, setPassword] = useState('');
  // A generated password is shown once after the reset; a typed one the admin already knows.
  const [generated, setGenerated] = useState<string>();
  const [shown, setShown] = useState<string>();
  const [invalid, setInvalid] = useState<string>();
  const [nameDone, setNameDone] = useState<string>();
  const [passDone, setPassDone] = useState<string>();
  const nameAct = useAction();
  const passAct = useAction();
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => {
    first.current?.focus();
    first.current?.scrollIntoView?.({ block: 'center' });
  }, []);
  const reset = async () => {
    setPassDone(undefined);
    setShown(undefined);
    const problem = passwordProblem(password);
    setInvalid(problem);
    if (problem) return;
    const r = await passAct.run(() => api.users.resetUserPassword({ id: user.id, newPassword: password }));
    if (r?.user) {
      if (generated === password) setShown(password);
      setPassword('');
      setGenerated(undefined);
      setPassDone(`Password of ${user.username} reset: their sessions were ended.`);
      onChanged(r.user);
    }
  };
  return (
    <Card
      title={`Edit ${user.username}`}
      class="result"
      actions={
        <button type="button" class="secondary small" aria-label={`Close the editor of ${user.username}`} onClick={onClose}>
          Close
        </button>
      }
    >
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          setNameDone(undefined);
          const r = await nameAct.run(() => api.users.updateUser({ id: user.id, displayName: name.trim() }));
          if (r?.user) {
            setName(r.user.displayName);
            setNameDone(`Display name of ${user.username} saved.`);
            onChanged(r.user);
          }
        }}
      >
        <Field label="New display name" hint="empty: the username">
          {(id) => <input id={id} ref={first} type="text" maxLength={191} autocomplete="off" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />}
        </Field>
        <ErrorNote message={nameAct.error} />
        {nameDone && <Notice kind="ok">{nameDone}</Notice>}
        <button type="submit" class="primary" disabled={nameAct.busy}>
          Save display name
        </button>
      </form>
      <h3>Reset the password</h3>
      {self ? (
        <p class="small">
          A reset would sign you out everywhere: change your own password on <a href="#/account">My account</a>.
        </p>
      ) : (
        <>
          {/* The reset ends their sessions, so it goes through a confirmation, not Enter. */}
          <p class="small muted">
            Sets a new password and ends every session of {user.username}. Tell them over a safe channel; they can change it on their account page.
          </p>
          <form class="form" onSubmit={(e) => e.preventDefault()}>
            <div class="inline-form">
              <Field label={`New password for ${user.username}`} hint={`at least ${MIN_PASSWORD} characters`}>
                {(id) => (
                  <input
                    id={id}
                    type="password"
                    required
                    minLength={MIN_PASSWORD}
                    autocomplete="new-password"
                    value={password}
                    onInput={(e) => {
                      setPassword((e.currentTarget as HTMLInputElement).value);
                      setGenerated(undefined);
                    }}
                  />
                )}
              </Field>
              <button
                type="button"
                class="secondary"
                onClick={() => {
                  const p = generatePassword();
                  setPassword(p);
                  setGenerated(p);
                }}
              >
                Generate one
              </button>
            </div>
            {generated && <p class="small muted">A random password is filled in; it is shown once after the reset.</p>}
            <ErrorNote message={invalid ?? passAct.error} />
          </form>
          <ConfirmButton
            label="Reset password"
            title={`Reset the password of ${user.username}?`}
            message={<p>Their sessions end at once; they sign in again with the new password.</p>}
            confirmLabel="Reset the password"
            danger
            disabled={passAct.busy || password === ''}
            onConfirm={reset}
          />
          {passDone && <Notice kind="ok">{passDone}</Notice>}
          {shown && (
            <>
              <p class="small">Copy it now: it is not shown again.</p>
              <SecretBox label="Temporary password" value={shown} testId="reset-password" />
              <button type="button" class="secondary small" onClick={() => setShown(undefined)}>
                Done, hide it
              </button>
            </>
          )}
        </>
      )}
    </Card>
  );
}
