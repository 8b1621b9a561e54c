// The shell: who is signed in (WhoAmI), the header with sign-out, the navigation (a menu
// button below 720 px) and the page the hash names.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, csrfToken } from './lib/api';
import { useAsync } from './lib/hooks';
import { parseHash, href, type Route } from './lib/route';
import { canSee, navFor, roleLabel } from './lib/access';
import { makeSession, SessionContext, type Session } from './lib/session';
import { PrincipalKind } from './gen/codexcentral/common/v1/common_pb';
import { ErrorNote, Loading } from './components/ui';
import { Overview } from './pages/Overview';
import { HostsList } from './pages/HostsList';
import { HostDetail } from './pages/HostDetail';
import { NewHost } from './pages/NewHost';
import { CodexAuthPage } from './pages/CodexAuth';
import { UsagePage } from './pages/Usage';
import { PricingPage } from './pages/Pricing';
import { AlertsPage } from './pages/Alerts';
import { TokensPage } from './pages/Tokens';
import { FleetPage } from './pages/Fleet';
import { AuditPage } from './pages/Audit';
import { MemoriesPage } from './pages/Memories';
import { ConfigPage } from './pages/Config';
import { UsersPage } from './pages/Users';
import { SettingsPage } from './pages/Settings';
import { ProvidersPage } from './pages/Providers';
import { CodexConfigPage } from './pages/CodexConfig';
import { AccountPage } from './pages/Account';

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    // The hash may have changed between the first render and this effect.
    on();
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Page({ route, session }: { route: Route; session: Session }) {
  if (!canSee(session.role, route.page)) {
    return (
      <div>
        <h1 id="page-title" tabIndex={-1}>
          Not here
        </h1>
        <p>
          This page does not exist or your role ({roleLabel(session.role)}) cannot use it. <a href={href('')}>Back to the overview</a>.
        </p>
      </div>
    );
  }
  const [first] = route.rest;
  switch (route.page) {
    case '':
      return <Overview />;
    case 'hosts':
      if (first === 'new') return <NewHost />;
      if (first) return <HostDetail id={first} />;
      return <HostsList route={route} />;
    case 'auth':
      return <CodexAuthPage />;
    case 'usage':
      return <UsagePage route={route} />;
    case 'pricing':
      return <PricingPage />;
    case 'alerts':
      return <AlertsPage />;
    case 'tokens':
      return <TokensPage />;
    case 'account':
      return <AccountPage />;
    case 'fleet':
      return <FleetPage />;
    case 'audit':
      return <AuditPage />;
    case 'memories':
      return <MemoriesPage route={route} />;
    case 'config':
      return <ConfigPage route={route} />;
    case 'users':
      return <UsersPage />;
    case 'settings':
      return <SettingsPage />;
    case 'providers':
      return <ProvidersPage />;
    case 'codex-config':
      return <CodexConfigPage />;
    default:
      return null;
  }
}

function SignOut({ csrf }: { csrf: string }) {
  return (
    <form method="post" action="/admin/logout" class="signout">
      <input type="hidden" name="csrf_token" value={csrf} />
      <button type="submit" class="link">
        Sign out
      </button>
    </form>
  );
}

function Shell({ session, route, children }: { session: Session; route: Route; children: ComponentChildren }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const local = session.principal.kind === PrincipalKind.LOCAL_ADMIN;
  // Local mode has nobody signed in, so no account to show.
  const items = navFor(session.role).filter((n) => !(local && n.page === 'account'));
  // A new page (not the first one): close the menu and move focus to its heading, so keyboard
  // and screen-reader users start there.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    setMenuOpen(false);
    document.getElementById('page-title')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [route.page, route.rest.join('/')]);
  const name = session.principal.name || (local ? 'local admin' : session.principal.id);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="topbar">
        <button
          type="button"
          class="menu-button"
          aria-expanded={menuOpen}
          aria-controls="nav"
          aria-label={menuOpen ? 'Close menu' : 'Open menu'}
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <span aria-hidden="true">☰</span>
        </button>
        <a class="brand" href={href('')}>
          codex-central
        </a>
        <div class="who">
          <span class="who-name" title={`Role: ${roleLabel(session.role)}`}>
            {local ? (
              'Local mode'
            ) : (
              <>
                Signed in as <strong>{name}</strong>
              </>
            )}
            <span class="muted"> · {roleLabel(session.role)}</span>
          </span>
          {!local && (
            <a href={href('account')} class="account-link hide-narrow">
              My account
            </a>
          )}
          {!local && <SignOut csrf={session.csrf} />}
        </div>
      </header>
      <div class="layout">
        <nav id="nav" class={`sidenav ${menuOpen ? 'open' : ''}`} aria-label="Main">
          <ul>
            {items.map((n) => (
              <li key={n.page}>
                <a href={href(n.page)} aria-current={route.page === n.page ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </>
  );
}

export function App() {
  const route = useRoute();
  const who = useAsync(() => api.identity.whoAmI({}), []);
  if (!who.data) {
    return (
      <main id="main" class="boot-main">
        <h1 class="visually-hidden">codex-central</h1>
        {who.error ? <ErrorNote message={`Could not load who you are: ${who.error}`} onRetry={who.reload} /> : <Loading label="Loading the dashboard…" />}
      </main>
    );
  }
  const p = who.data.principal;
  if (!p) return <ErrorNote message="The server did not say who you are." onRetry={who.reload} />;
  const session = makeSession(p, who.data.authMode, who.data.clientIp, csrfToken());
  return (
    <SessionContext.Provider value={session}>
      <Shell session={session} route={route}>
        <Page route={route} session={session} />
      </Shell>
    </SessionContext.Provider>
  );
}
