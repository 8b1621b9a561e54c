import { describe, expect, it } from 'vitest';
import { platformFromFileName } from './WrapperReleases';

describe('platformFromFileName', () => {
  it('reads the platform the way --wrapper-dir names builds', () => {
    expect(platformFromFileName('cdx-linux-x86_64')).toBe('linux-x86_64');
    expect(platformFromFileName('C:\\builds\\cdx-darwin-aarch64')).toBe('darwin-aarch64');
    expect(platformFromFileName('/tmp/out/cdx.sh')).toBe('script');
  });
  it('says nothing for other names', () => {
    expect(platformFromFileName('cdx')).toBe('');
    expect(platformFromFileName('cdx-')).toBe('');
    expect(platformFromFileName('cdx-linux x86')).toBe('');
    expect(platformFromFileName('release.tar.gz')).toBe('');
  });
});
