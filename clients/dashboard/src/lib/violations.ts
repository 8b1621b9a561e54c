// The server's per-field validation errors: an INVALID_ARGUMENT carries a google.rpc.BadRequest
// naming each failing field by its dotted request path, so a form can show every message next
// to the control it belongs to.

import { Code, ConnectError } from '@connectrpc/connect';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export interface FieldViolation {
  /** Dotted request path, e.g. "profile.extra_toml". */
  field: string;
  description: string;
}

const BAD_REQUEST = 'google.rpc.BadRequest';

/**
 * Reads a google.rpc.BadRequest by hand: its two string fields are all we need, and the
 * dashboard carries no generated google.rpc types.
 */
export function decodeBadRequest(bytes: Uint8Array): FieldViolation[] {
  try {
    return readBadRequest(bytes);
  } catch {
    // Malformed details: the message alone still says what is wrong.
    return [];
  }
}

function readBadRequest(bytes: Uint8Array): FieldViolation[] {
  const out: FieldViolation[] = [];
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no !== 1 || wt !== WireType.LengthDelimited) {
      r.skip(wt, no);
      continue;
    }
    const v = new BinaryReader(r.bytes());
    const fv: FieldViolation = { field: '', description: '' };
    while (v.pos < v.len) {
      const [n, w] = v.tag();
      if (n === 1 && w === WireType.LengthDelimited) fv.field = v.string();
      else if (n === 2 && w === WireType.LengthDelimited) fv.description = v.string();
      else v.skip(w, n);
    }
    out.push(fv);
  }
  return out;
}

/** The field violations an INVALID_ARGUMENT carries (none for other errors or bad details). */
export function fieldViolations(e: unknown): FieldViolation[] {
  if (!(e instanceof ConnectError) || e.code !== Code.InvalidArgument) return [];
  const out: FieldViolation[] = [];
  for (const d of e.details) {
    if ('type' in d && d.type === BAD_REQUEST) out.push(...decodeBadRequest(d.value));
  }
  return out;
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * Violations under `prefix` keyed by the form's camelCase field name: "profile.model_provider"
 * with prefix "profile." becomes `modelProvider`. Deeper paths keep their first segment
 * ("host_override.x.y" → `x`); the first message per field wins.
 */
export function errorsByField(violations: FieldViolation[], prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of violations) {
    if (!v.field.startsWith(prefix)) continue;
    const key = camel(v.field.slice(prefix.length).split('.')[0]);
    if (key && !(key in out)) out[key] = v.description;
  }
  return out;
}

/** The description for `field` or any field below it ("files.0" matches "files.0.path"). */
export function violationFor(violations: FieldViolation[], field: string): string | undefined {
  return violations.find((v) => v.field === field || v.field.startsWith(`${field}.`))?.description;
}
