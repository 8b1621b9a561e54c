import { describe, expect, it } from 'vitest';
import { Role } from '../gen/codexcentral/common/v1/common_pb';
import { canSee, canWrite, navFor, roleLabel } from './access';

describe('pages per role', () => {
  it('gives admins every page', () => {
    expect(navFor(Role.ADMIN).map((n) => n.page)).toEqual([
      '',
      'hosts',
      'auth',
      'usage',
      'pricing',
      'alerts',
      'tokens',
      'account',
      'fleet',
      'audit',
      'memories',
      'config',
      'codex-config',
      'providers',
      'users',
      'settings',
    ]);
  });
  it('keeps members to their own pages', () => {
    expect(navFor(Role.MEMBER).map((n) => n.page)).toEqual(['', 'usage', 'alerts', 'tokens', 'account', 'memories', 'codex-config']);
    expect(canSee(Role.MEMBER, 'hosts')).toBe(false);
    expect(canSee(Role.MEMBER, 'fleet')).toBe(false);
    expect(canSee(Role.MEMBER, 'audit')).toBe(false);
  });
  it('lets read-only tokens read the fleet pages but not own personal tokens', () => {
    expect(canSee(Role.READ_ONLY, 'hosts')).toBe(true);
    expect(canSee(Role.READ_ONLY, 'audit')).toBe(true);
    expect(canSee(Role.READ_ONLY, 'tokens')).toBe(false);
    expect(canSee(Role.READ_ONLY, 'account')).toBe(false);
  });
  it('refuses unknown pages and roles', () => {
    expect(canSee(Role.ADMIN, 'nope')).toBe(false);
    expect(navFor(Role.HOST)).toEqual([]);
    expect(navFor(Role.UNSPECIFIED)).toEqual([]);
  });
  it('lets only admins write', () => {
    expect(canWrite(Role.ADMIN)).toBe(true);
    expect(canWrite(Role.READ_ONLY)).toBe(false);
    expect(canWrite(Role.MEMBER)).toBe(false);
  });
  it('labels roles', () => {
    expect(roleLabel(Role.READ_ONLY)).toBe('read-only');
    expect(roleLabel(Role.MEMBER)).toBe('member');
  });
});
