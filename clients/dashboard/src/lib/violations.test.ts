import { describe, expect, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { decodeBadRequest, errorsByField, fieldViolations, violationFor } from './violations';
import { badRequest } from '../testing/dom';

describe('server validation errors', () => {
  it('decodes BadRequest field violations, skipping unknown fields', () => {
    const w = new BinaryWriter();
    w.tag(7, 0).uint32(42); // a field a newer server might add
    w.tag(1, 2).fork().tag(1, 2).string('profile.name').tag(3, 0).uint32(1).tag(2, 2).string('bad name').join();
    expect(decodeBadRequest(w.finish())).toEqual([{ field: 'profile.name', description: 'bad name' }]);
  });

  it('reads the violations of an INVALID_ARGUMENT only', () => {
    const details = [
      { type: 'google.rpc.ErrorInfo', value: new Uint8Array([10, 1, 120]) },
      { type: 'google.rpc.BadRequest', value: badRequest([['host_override.extra_toml', 'line 1, column 6: expected `=`']]) },
    ];
    const e = new ConnectError('line 1, column 6: expected `=`', Code.InvalidArgument);
    e.details = details;
    expect(fieldViolations(e)).toEqual([{ field: 'host_override.extra_toml', description: 'line 1, column 6: expected `=`' }]);

    const other = new ConnectError('profile x not found', Code.NotFound);
    other.details = details;
    expect(fieldViolations(other)).toEqual([]);
    expect(fieldViolations(new Error('boom'))).toEqual([]);
  });

  it('survives malformed details', () => {
    const e = new ConnectError('bad', Code.InvalidArgument);
    e.details = [{ type: 'google.rpc.BadRequest', value: new Uint8Array([10, 50, 1]) }];
    expect(fieldViolations(e)).toEqual([]);
  });

  it('maps dotted paths to camelCase form fields under a prefix', () => {
    const v = [
      { field: 'profile.model_provider', description: 'too long' },
      { field: 'profile.extra_toml', description: 'line 2, column 1: unknown key' },
      { field: 'profile.extra_toml', description: 'second message' },
      { field: 'template.free_blocks.0.toml', description: 'elsewhere' },
      { field: 'new_name', description: 'taken' },
    ];
    expect(errorsByField(v, 'profile.')).toEqual({ modelProvider: 'too long', extraToml: 'line 2, column 1: unknown key' });
    expect(errorsByField(v, '')).toMatchObject({ newName: 'taken', template: 'elsewhere' });
  });
});

describe('field violations', () => {
  it('decodes google.rpc.BadRequest', () => {
    expect(decodeBadRequest(badRequest([['requirements.allowed_sandbox_modes.0', 'must be one of read-only']]))).toEqual([
      { field: 'requirements.allowed_sandbox_modes.0', description: 'must be one of read-only' },
    ]);
    expect(decodeBadRequest(new Uint8Array([10, 200]))).toEqual([]);
  });

  it('reads them from a ConnectError and finds one by field prefix', () => {
    const e = new ConnectError('line 1, column 3: expected `=`', Code.InvalidArgument);
    e.details = [
      { type: 'google.rpc.ErrorInfo', value: new Uint8Array([10, 1, 120]) },
      { type: 'google.rpc.BadRequest', value: badRequest([['requirements.free_blocks.1.toml', 'line 1, column 3: expected `=`']]) },
    ];
    const v = fieldViolations(e);
    expect(v).toHaveLength(1);
    expect(violationFor(v, 'requirements.free_blocks.1.toml')).toBe('line 1, column 3: expected `=`');
    expect(violationFor(v, 'requirements.free_blocks.1')).toBe('line 1, column 3: expected `=`');
    expect(violationFor(v, 'requirements.free_blocks.10')).toBeUndefined();
    expect(violationFor(v, 'requirements.free_blocks.0')).toBeUndefined();
    expect(fieldViolations(new Error('x'))).toEqual([]);
  });
});
