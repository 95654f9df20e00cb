// Text from peers and clients as a PostgreSQL text (or jsonb) value can hold it: no NUL, and UTF-16
// without lone surrogates (a PostgreSQL server refuses the one, jsonb the other). Both become U+FFFD,
// as a UTF-8 decoder shows bytes it cannot read.

/** Whether `s` can be stored as it is: no NUL, no unpaired surrogate. A lookup by text that is not finds nothing. */
export function isStorableText(s: string): boolean {
  return s.isWellFormed() && !s.includes('\0');
}

/** `s` with NUL and unpaired surrogates replaced by U+FFFD; the same string when there are none. */
export function storableText(s: string): string {
  return isStorableText(s) ? s : s.toWellFormed().replaceAll('\0', '\uFFFD');
}
