import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { SkillSchema } from '../gen/codexcentral/config/v1/config_pb';
import { decodeText, draftOfSkill, fileDrafts, fileSize, filesToSave, frontMatter, skillTemplate } from './Skills';

const enc = (s: string) => new TextEncoder().encode(s);

describe('skill files', () => {
  it('edits UTF-8 files as text and keeps binary ones as bytes', () => {
    expect(decodeText(enc('héllo'))).toBe('héllo');
    expect(decodeText(new Uint8Array([0xff, 0xfe]))).toBeUndefined();
    expect(decodeText(new Uint8Array([0x61, 0, 0x62]))).toBeUndefined();
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1]);
    const drafts = fileDrafts([
      { path: 'run.sh', content: enc('#!/bin/sh\n'), sha256: '' },
      { path: 'logo.png', content: png, sha256: '' },
    ].map((f) => ({ ...f, $typeName: 'codexcentral.config.v1.SkillFile' as const })));
    expect(drafts).toEqual([{ path: 'run.sh', text: '#!/bin/sh\n' }, { path: 'logo.png', bytes: png }]);
    expect(fileSize(drafts[0])).toBe(10);
    expect(fileSize(drafts[1])).toBe(6);
    expect(fileSize({ path: 'x', text: 'é' })).toBe(2);
  });

  it('sends trimmed paths, encoded text and the bytes unchanged; drops blank rows', () => {
    const png = new Uint8Array([1, 2, 3]);
    const out = filesToSave([
      { path: ' notes/a.md ', text: 'hi' },
      { path: '', text: '' },
      { path: 'b.bin', bytes: png },
    ]);
    expect(out.map((f) => f.path)).toEqual(['notes/a.md', 'b.bin']);
    expect(new TextDecoder().decode(out[0].content)).toBe('hi');
    expect(out[1].content).toBe(png);
  });

  it('starts a new skill with the front matter Codex needs', () => {
    const t = skillTemplate('lint');
    expect(t.startsWith('---\nname: lint\ndescription: ')).toBe(true);
    expect(t).toContain('\n---\n');
    expect(skillTemplate(' ')).toContain('name: my-skill');
  });

  it('reads SKILL.md front matter like the server', () => {
    expect(frontMatter('---\nname: lint\ndescription: "Checks style"\n---\nbody')).toEqual({ name: 'lint', description: 'Checks style' });
    expect(frontMatter('---\nname: a\nname: b\nconstructor: c\n---\n')).toEqual({ name: 'a', constructor: 'c' });
    expect(frontMatter('no front matter')).toEqual({});
    expect(frontMatter('---\nname: never closed')).toEqual({});
  });

  it('opens a saved skill as a draft with its lock', () => {
    const s = create(SkillSchema, { slug: 'lint', displayName: 'Lint', description: 'd', manifest: 'm', sha256: 'abc', files: [{ path: 'a.txt', content: enc('x') }] });
    expect(draftOfSkill(s)).toEqual({ slug: 'lint', displayName: 'Lint', description: 'd', manifest: 'm', sha256: 'abc', files: [{ path: 'a.txt', text: 'x' }] });
  });

  it('leaves names and descriptions copied from SKILL.md blank so they follow it', () => {
    const manifest = '---\nname: lint\ndescription: Checks style\n---\n';
    const copied = draftOfSkill(create(SkillSchema, { slug: 'lint', displayName: 'lint', description: 'Checks style', manifest }));
    expect([copied.displayName, copied.description]).toEqual(['', '']);
    const own = draftOfSkill(create(SkillSchema, { slug: 'lint', displayName: 'Linter', description: 'Mine', manifest }));
    expect([own.displayName, own.description]).toEqual(['Linter', 'Mine']);
  });
});
