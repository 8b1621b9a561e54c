import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { Role, type Principal } from '../gen/codexcentral/common/v1/common_pb';
import { canWrite } from './access';

export interface Session {
  principal: Principal;
  role: Role;
  authMode: string;
  clientIp: string;
  csrf: string;
  /** Admins change things; others only read. */
  canWrite: boolean;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}

export function makeSession(principal: Principal, authMode: string, clientIp: string, csrf: string): Session {
  return { principal, role: principal.role, authMode, clientIp, csrf, canWrite: canWrite(principal.role) };
}
