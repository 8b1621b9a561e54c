// Hash routes: /admin/#/hosts, /admin/#/hosts/<id>, /admin/#/usage?group=model. The server owns
// the real paths under /admin/ (login, account, logout), so the SPA lives behind the hash.

export interface Route {
  /** First path segment: "" for the overview, "hosts", "usage", … */
  page: string;
  /** Remaining decoded segments, e.g. ["<host id>"] or ["new"]. */
  rest: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  let h = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = h.indexOf('?');
  const params = new URLSearchParams(q >= 0 ? h.slice(q + 1) : '');
  if (q >= 0) h = h.slice(0, q);
  const parts = h
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { page: parts[0] ?? '', rest: parts.slice(1), params };
}

/** A link target for a route: href('hosts', id) → "#/hosts/<id>". */
export function href(page: string, ...rest: string[]): string {
  const path = [page, ...rest].filter((p) => p !== '').map(encodeURIComponent).join('/');
  return `#/${path}`;
}

/** A link with query parameters (empty values left out). */
export function hrefWith(page: string, params: Record<string, string>, ...rest: string[]): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${href(page, ...rest)}?${s}` : href(page, ...rest);
}
