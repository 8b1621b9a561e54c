import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { RequirementsSchema } from '../gen/codexcentral/config/v1/config_pb';
import { draftOf, requirementsOf, sentBlockIndices, toggled, APPROVAL_POLICIES } from './Requirements';

describe('requirements editor model', () => {
  it('round-trips a document and drops empty blocks', () => {
    const r = create(RequirementsSchema, {
      allowedApprovalPolicies: ['on-request', 'never'],
      allowedSandboxModes: ['read-only'],
      freeBlocks: [{ name: 'mcp', toml: '[mcp_servers.docs]\nidentity = { command = "docs" }\n' }],
    });
    const d = draftOf(r);
    expect(d.blocks).toEqual([{ name: 'mcp', toml: '[mcp_servers.docs]\nidentity = { command = "docs" }\n' }]);
    d.blocks.push({ name: ' ', toml: '' });
    const back = requirementsOf(d);
    expect(back.allowedApprovalPolicies).toEqual(['on-request', 'never']);
    expect(back.allowedWebSearchModes).toEqual([]);
    expect(back.freeBlocks.map((b) => b.name)).toEqual(['mcp']);
    expect(draftOf(undefined)).toEqual({ allowedApprovalPolicies: [], allowedSandboxModes: [], allowedWebSearchModes: [], blocks: [] });
  });

  it('maps editor blocks to the request positions the server names', () => {
    expect(sentBlockIndices([{ name: 'a', toml: '' }, { name: ' ', toml: ' ' }, { name: '', toml: 'x = 1' }])).toEqual([0, -1, 1]);
    expect(sentBlockIndices([])).toEqual([]);
  });

  it('ticks values into the canonical order and keeps existing order', () => {
    expect(toggled([], 'never', true, APPROVAL_POLICIES)).toEqual(['never']);
    expect(toggled(['never'], 'untrusted', true, APPROVAL_POLICIES)).toEqual(['untrusted', 'never']);
    expect(toggled(['untrusted', 'never'], 'on-request', true, APPROVAL_POLICIES)).toEqual(['untrusted', 'on-request', 'never']);
    expect(toggled(['never', 'untrusted'], 'on-failure', true, APPROVAL_POLICIES)).toEqual(['on-failure', 'never', 'untrusted']);
    expect(toggled(['never'], 'never', true, APPROVAL_POLICIES)).toEqual(['never']);
    expect(toggled(['untrusted', 'never'], 'untrusted', false, APPROVAL_POLICIES)).toEqual(['never']);
  });
});
