// Which pages a role sees. The services enforce every rule themselves; this only keeps people
// from landing on pages that would answer "not allowed".

import { Role } from '../gen/codexcentral/common/v1/common_pb';

export interface NavItem {
  page: string;
  label: string;
  roles: Role[];
}

const STAFF = [Role.ADMIN, Role.READ_ONLY];
const EVERYONE = [Role.ADMIN, Role.READ_ONLY, Role.MEMBER];
const PEOPLE = [Role.ADMIN, Role.MEMBER];

export const NAV: NavItem[] = [
  { page: '', label: 'Overview', roles: EVERYONE },
  { page: 'hosts', label: 'Hosts', roles: STAFF },
  { page: 'auth', label: 'Canonical auth', roles: STAFF },
  { page: 'usage', label: 'Usage', roles: EVERYONE },
  { page: 'pricing', label: 'Pricing', roles: STAFF },
  { page: 'alerts', label: 'Alerts', roles: EVERYONE },
  { page: 'tokens', label: 'My tokens', roles: PEOPLE },
  { page: 'account', label: 'My account', roles: PEOPLE },
  { page: 'fleet', label: 'Kill switch & policy', roles: STAFF },
  { page: 'audit', label: 'Audit log', roles: STAFF },
  { page: 'memories', label: 'Memories', roles: EVERYONE },
  { page: 'config', label: 'Config builder', roles: STAFF },
  { page: 'codex-config', label: 'My Codex config', roles: PEOPLE },
  { page: 'providers', label: 'Providers', roles: STAFF },
  { page: 'users', label: 'Users', roles: STAFF },
  { page: 'settings', label: 'Settings', roles: STAFF },
];

export function navFor(role: Role): NavItem[] {
  return NAV.filter((n) => n.roles.includes(role));
}

export function canSee(role: Role, page: string): boolean {
  const item = NAV.find((n) => n.page === page);
  return item ? item.roles.includes(role) : false;
}

/** Only admins change things; read-only tokens and members see read views. */
export function canWrite(role: Role): boolean {
  return role === Role.ADMIN;
}

export function roleLabel(role: Role): string {
  switch (role) {
    case Role.ADMIN:
      return 'admin';
    case Role.READ_ONLY:
      return 'read-only';
    case Role.MEMBER:
      return 'member';
    case Role.HOST:
      return 'host';
    default:
      return 'unknown';
  }
}
