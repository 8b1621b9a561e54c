import { describe, expect, it } from 'vitest';
import { generatePassword, MIN_PASSWORD, passwordProblem } from './passwords';

describe('password rules', () => {
  it('asks for the server minimum, counted in characters', () => {
    expect(MIN_PASSWORD).toBe(8);
    expect(passwordProblem('short')).toMatch(/at least 8 characters/);
    expect(passwordProblem('éééééééé')).toBeUndefined();
    expect(passwordProblem('long enough')).toBeUndefined();
  });
  it('refuses a confirmation that differs and an over-long password', () => {
    expect(passwordProblem('long enough', 'long enougH')).toBe('The two new passwords differ.');
    expect(passwordProblem('long enough', 'long enough')).toBeUndefined();
    expect(passwordProblem('x'.repeat(1025))).toMatch(/too long/);
  });
  it('generates passwords of the asked length from the look-alike-free alphabet', () => {
    const p = generatePassword(20);
    expect(p).toHaveLength(20);
    expect(p).toMatch(/^[A-HJ-NP-Za-km-z2-9]+$/);
    expect(generatePassword()).not.toBe(generatePassword());
  });
  it('drops random bytes that would bias the choice', () => {
    // 57 symbols: bytes from 228 up are skipped, 0 maps to "A", 57 wraps to "A" again.
    let calls = 0;
    const random = (n: number) => {
      calls++;
      return new Uint8Array(n).fill(calls === 1 ? 250 : 57);
    };
    expect(generatePassword(4, random)).toBe('AAAA');
    expect(calls).toBe(2);
  });
});
