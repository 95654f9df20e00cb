// RFC 5322 §3.4 address lists for ENVELOPE: mailboxes (`Name <a@b>`, `a@b`), groups (`g: a@b;`),
// quoted strings, comments and obsolete routes. Lenient: whatever the header holds gives a list.

export interface Address {
  /** Display name as written (encoded words kept), or undefined. */
  name?: string;
  mailbox: string;
  host: string;
}
export type AddressItem = Address | { group: string; members: Address[] };

type Token = { word: string; quoted: boolean } | { special: string };

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') i++;
    else if (c === '(') {
      // comments nest and may escape parentheses; they carry no address
      let depth = 0;
      for (; i < s.length; i++) {
        if (s[i] === '\\') i++;
        else if (s[i] === '(') depth++;
        else if (s[i] === ')' && --depth === 0) break;
      }
      i++;
    } else if (c === '"') {
      let word = '';
      for (i++; i < s.length && s[i] !== '"'; i++) word += s[i] === '\\' && i + 1 < s.length ? s[++i] : s[i];
      i++;
      out.push({ word, quoted: true });
    } else if ('<>@,;:.'.includes(c)) {
      out.push({ special: c });
      i++;
    } else {
      let word = '';
      while (i < s.length && !' \t\r\n()"<>@,;:.'.includes(s[i])) word += s[i++];
      out.push({ word, quoted: false });
    }
  }
  return out;
}

// a quoted "," is a word: only unquoted specials separate
const isSpecial = (t: Token, chars: string) => 'special' in t && chars.includes(t.special);
const text = (t: Token) => ('word' in t ? t.word : t.special);

function addrSpec(tokens: Token[]): { mailbox: string; host: string } {
  let spec = tokens.map(text).join('');
  const route = spec.lastIndexOf(':'); // obsolete source route @a,@b:local@host
  if (route !== -1) spec = spec.slice(route + 1);
  const at = spec.lastIndexOf('@');
  return at === -1 ? { mailbox: spec, host: '' } : { mailbox: spec.slice(0, at), host: spec.slice(at + 1) };
}

function phrase(tokens: Token[]): string | undefined {
  const words = tokens.map(text);
  const s = words.join(' ').replace(/ \. /g, '.').trim();
  return s || undefined;
}

export function parseAddressList(value: string): AddressItem[] {
  const tokens = tokenize(value);
  const out: AddressItem[] = [];
  let group: { group: string; members: Address[] } | undefined;
  let i = 0;
  while (i < tokens.length) {
    const pre: Token[] = [];
    while (i < tokens.length && !isSpecial(tokens[i], '<,;:')) pre.push(tokens[i++]);
    const stop = i < tokens.length ? text(tokens[i]) : '';
    if (stop === ':' && !group) {
      group = { group: phrase(pre) ?? '', members: [] };
      out.push(group);
      i++;
      continue;
    }
    let addr: Address | undefined;
    if (stop === '<') {
      const inner: Token[] = [];
      for (i++; i < tokens.length && !isSpecial(tokens[i], '>'); i++) inner.push(tokens[i]);
      i++; // past ">"
      // anything after ">" up to the next separator is ignored
      while (i < tokens.length && !isSpecial(tokens[i], ',;')) i++;
      addr = { name: phrase(pre), ...addrSpec(inner) };
    } else if (pre.length) addr = addrSpec(pre);
    if (addr && (addr.mailbox || addr.host)) (group ? group.members : (out as Address[])).push(addr);
    const sep = i < tokens.length && 'special' in tokens[i] ? text(tokens[i]) : '';
    if (sep === ';') group = undefined;
    if (sep === ',' || sep === ';' || sep === ':') i++;
  }
  return out;
}
