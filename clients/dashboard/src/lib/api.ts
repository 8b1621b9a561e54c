// The grpc-web clients. Same origin, binary format (tonic-web refuses +json); the session
// cookie goes along by itself and every call carries the page's CSRF token. A call answered
// UNAUTHENTICATED (session expired or signed out elsewhere) sends the browser to the sign-in page.

import { Code, ConnectError, createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import type { DescService } from '@bufbuild/protobuf';
import {
  ByokService,
  CodexAuthService,
  IdentityService,
  SessionService,
  SignInProviderService,
  TokenService,
  UserService,
} from '../gen/codexcentral/auth/v1/auth_pb';
import { FleetService } from '../gen/codexcentral/fleet/v1/fleet_pb';
import { UsageService } from '../gen/codexcentral/usage/v1/usage_pb';
import { MemoryService } from '../gen/codexcentral/memory/v1/memory_pb';
import { ConfigService } from '../gen/codexcentral/config/v1/config_pb';

export const CSRF_HEADER = 'x-csrf-token';
export const LOGIN_URL = '/admin/login?next=/admin/';

/** The CSRF token the server put in index.html; empty in local mode. */
export function csrfToken(doc: Document = document): string {
  return doc.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
}

/** Adds the CSRF header and handles UNAUTHENTICATED; exported for tests. */
export function sessionInterceptor(csrf: string, onUnauthenticated: () => void): Interceptor {
  return (next) => async (req) => {
    if (csrf) req.header.set(CSRF_HEADER, csrf);
    try {
      return await next(req);
    } catch (e) {
      if (ConnectError.from(e).code === Code.Unauthenticated) onUnauthenticated();
      throw e;
    }
  };
}

let redirecting = false;
function toLogin() {
  if (redirecting) return;
  redirecting = true;
  window.location.assign(LOGIN_URL);
}

const transport = createGrpcWebTransport({
  baseUrl: typeof window === 'undefined' ? 'http://localhost' : window.location.origin,
  useBinaryFormat: true,
  interceptors: [sessionInterceptor(typeof document === 'undefined' ? '' : csrfToken(), toLogin)],
  fetch: (input, init) => globalThis.fetch(input, { ...init, credentials: 'same-origin' }),
});

function client<T extends DescService>(service: T): Client<T> {
  return createClient(service, transport);
}

export const api = {
  identity: client(IdentityService),
  users: client(UserService),
  sessions: client(SessionService),
  tokens: client(TokenService),
  signIn: client(SignInProviderService),
  byok: client(ByokService),
  codexAuth: client(CodexAuthService),
  fleet: client(FleetService),
  usage: client(UsageService),
  memory: client(MemoryService),
  config: client(ConfigService),
};

/** What to show people for a failed call: the server's message, or a plain fallback. */
export function errorMessage(e: unknown): string {
  if (e instanceof ConnectError) {
    const text = e.rawMessage || e.message;
    if (e.code === Code.PermissionDenied) return `Not allowed: ${text}`;
    if (e.code === Code.Unavailable && !e.rawMessage) return 'The server is not reachable.';
    return text;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}
