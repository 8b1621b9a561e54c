import { describe, expect, it, vi } from 'vitest';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import { IdentityService } from '../gen/codexcentral/auth/v1/auth_pb';
import { CSRF_HEADER, csrfToken, errorMessage, LOGIN_URL, sessionInterceptor } from './api';

/** A grpc-web answer with only trailers (as tonic-web sends for an error). */
function trailersOnly(status: number, message: string): Response {
  return new Response(new Uint8Array(), {
    status: 200,
    headers: { 'content-type': 'application/grpc-web+proto', 'grpc-status': String(status), 'grpc-message': encodeURIComponent(message) },
  });
}

describe('session interceptor over grpc-web', () => {
  it('sends the CSRF header in the binary format and leaves for sign-in on UNAUTHENTICATED', async () => {
    const seen: Request[] = [];
    const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return trailersOnly(Code.Unauthenticated, 'session expired');
    });
    const onUnauthenticated = vi.fn();
    const transport = createGrpcWebTransport({
      baseUrl: 'http://dash.test',
      useBinaryFormat: true,
      fetch: fetch as typeof globalThis.fetch,
      interceptors: [sessionInterceptor('tok123', onUnauthenticated)],
    });
    const client = createClient(IdentityService, transport);
    const err = await client.whoAmI({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect(errorMessage(err)).toBe('session expired');
    expect(onUnauthenticated).toHaveBeenCalledOnce();
    expect(seen[0].url).toBe('http://dash.test/codexcentral.auth.v1.IdentityService/WhoAmI');
    expect(seen[0].headers.get(CSRF_HEADER)).toBe('tok123');
    expect(seen[0].headers.get('content-type')).toBe('application/grpc-web+proto');
  });

  it('sends no CSRF header in local mode and keeps other errors on the page', async () => {
    let header: string | null = 'unset';
    const transport = createGrpcWebTransport({
      baseUrl: 'http://dash.test',
      useBinaryFormat: true,
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        header = new Request(input, init).headers.get(CSRF_HEADER);
        return trailersOnly(Code.PermissionDenied, 'admins only');
      }) as typeof globalThis.fetch,
      interceptors: [sessionInterceptor('', () => {
        throw new Error('must not redirect');
      })],
    });
    const err = await createClient(IdentityService, transport).whoAmI({}).catch((e: unknown) => e);
    expect(header).toBeNull();
    expect(errorMessage(err)).toBe('Not allowed: admins only');
  });
});

describe('csrfToken', () => {
  it('reads the meta tag the server inserts, or nothing', () => {
    const doc = (value: string | null) =>
      ({ querySelector: (sel: string) => (sel === 'meta[name="csrf-token"]' && value !== null ? { getAttribute: () => value } : null) }) as unknown as Document;
    expect(csrfToken(doc('abc'))).toBe('abc');
    expect(csrfToken(doc(''))).toBe('');
    expect(csrfToken(doc(null))).toBe('');
  });
  it('signs in again at the server page and comes back to the SPA', () => {
    expect(LOGIN_URL).toBe('/admin/login?next=/admin/');
  });
});

describe('errorMessage', () => {
  it('says what failed without the gRPC code prefix', () => {
    expect(errorMessage(new ConnectError('fqdn already registered', Code.AlreadyExists))).toBe('fqdn already registered');
    expect(errorMessage(new ConnectError('', Code.Unavailable))).toBe('The server is not reachable.');
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
  });
});
