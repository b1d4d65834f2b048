// The server's password rule (10..256 characters), checked before a request so the
// form can say what is wrong at once.

export const MIN_PASSWORD = 10;
export const MAX_PASSWORD = 256;

/** Checks a new password and its repetition; null when fine. */
export function passwordProblem(pw: string, again: string): string | null {
  if (pw.length < MIN_PASSWORD) return `Use at least ${MIN_PASSWORD} characters.`;
  if (pw.length > MAX_PASSWORD) return `Use at most ${MAX_PASSWORD} characters.`;
  if (pw !== again) return "The two passwords differ.";
  return null;
}
