// Password rules the server applies (checked here first, for a clear message at the field) and
// temporary passwords for an admin's reset.

/** The server's rule (services/auth users::MIN_PASSWORD), counted in characters like it. */
export const MIN_PASSWORD = 8;
const MAX_PASSWORD_BYTES = 1024;

/** Why a new password would be refused, or undefined; `confirm` is the repeated entry. */
export function passwordProblem(next: string, confirm?: string): string | undefined {
  if ([...next].length < MIN_PASSWORD) return `The new password needs at least ${MIN_PASSWORD} characters.`;
  if (new TextEncoder().encode(next).length > MAX_PASSWORD_BYTES) return 'The new password is too long.';
  if (confirm !== undefined && confirm !== next) return 'The two new passwords differ.';
  return undefined;
}

// No look-alikes (0/O, 1/l/I): a temporary password is often read out or typed from a note.
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A random password from a look-alike-free alphabet, without modulo bias. */
export function generatePassword(length = 16, random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  const limit = 256 - (256 % ALPHABET.length);
  let out = '';
  while (out.length < length) {
    for (const b of random(length * 2)) {
      if (b < limit && out.length < length) out += ALPHABET[b % ALPHABET.length];
    }
  }
  return out;
}
