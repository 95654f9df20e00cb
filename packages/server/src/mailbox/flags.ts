// IMAP flags as every door takes them (RFC 3501 §2.3.2): system flags in their canonical case,
// keywords as atoms. Pure; the doors turn a thrown error into 400 or a tagged BAD.
import { SYSTEM_FLAGS } from '@pullmail/client/wire';
import { PullmailError } from '../errors.ts';

const SYSTEM = new Map(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));
/**
 * RFC 3501 atom characters, less `]` (resp-specials), `\` (only system flags carry one) and `,`: the
 * REST and admin APIs take flag lists as `?flags=\Seen,$Label`, so a keyword with a comma could not be
 * told from two keywords there.
 */
const KEYWORD = /^[!#$&'+\-.0-9:;<=>?@A-Z^_`a-z|~]{1,64}$/;
const MAX_FLAGS = 64;

/** One flag in canonical form; throws `bad_request` for what IMAP could not carry. */
export function canonicalFlag(flag: string): string {
  const system = SYSTEM.get(flag.toLowerCase());
  if (system) return system;
  // \Recent is the server's to set (RFC 3501 §2.3.2); other backslash flags do not exist
  if (flag.startsWith('\\')) throw new PullmailError('bad_request', `${flag} is not a flag a message can be given`);
  if (!KEYWORD.test(flag)) throw new PullmailError('bad_request', `"${flag}" is not a valid keyword (letters, digits and $-._ etc., at most 64)`);
  return flag;
}

/**
 * Flags from elsewhere (an import): the ones a message can carry in canonical form, at most 64 and
 * without duplicates, and the ones no IMAP message can carry, as given, to be left off and named.
 */
export function partitionFlags(flags: readonly string[]): { flags: string[]; ignored: string[] } {
  const kept = new Set<string>();
  const ignored: string[] = [];
  for (const flag of flags) {
    try {
      kept.add(canonicalFlag(flag));
    } catch {
      ignored.push(flag);
    }
  }
  return { flags: [...kept].slice(0, MAX_FLAGS), ignored };
}

/** A flag list without duplicates, in canonical form and stable order. */
export function canonicalFlags(flags: readonly string[]): string[] {
  const out = [...new Set(flags.map(canonicalFlag))];
  if (out.length > MAX_FLAGS) throw new PullmailError('bad_request', `at most ${MAX_FLAGS} flags on one message`);
  return out;
}

export type FlagChange = { set: readonly string[] } | { add?: readonly string[]; remove?: readonly string[] };

/** The flags a message has after a change; the same list (by value) when nothing changes. */
export function applyFlags(current: readonly string[], change: FlagChange): string[] {
  if ('set' in change) return canonicalFlags(change.set);
  const remove = new Set(canonicalFlags(change.remove ?? []));
  return canonicalFlags([...current.filter((f) => !remove.has(f)), ...(change.add ?? [])].filter((f) => !remove.has(canonicalFlag(f))));
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f));
}
