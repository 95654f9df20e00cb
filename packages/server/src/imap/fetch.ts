// FETCH response items (RFC 3501 §7.4.2, RFC 7162 §3.1.4 MODSEQ) for one message, from its
// metadata and, when an item needs them, its bytes. Pure: the session loads, this shapes.
import type { Readable } from 'node:stream';
import type { MessageInfo } from './backend.ts';
import { atom, type ImapValue } from './encode.ts';
import { bodyStructure, envelope, parseMessage, sectionBytes, type MimeEntity } from './mime.ts';
import type { FetchItem, Section } from './parser.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** INTERNALDATE as `"02-Dec-2026 00:35:15 +0000"` (UTC). */
function formatInternalDate(d: Date): string {
  return `${pad(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

export const flagList = (flags: string[]): ImapValue => flags.map(atom);

/** `BODY[1.HEADER.FIELDS (SUBJECT)]<0>` as the response names it. */
function sectionName(section: Section, partialStart?: number): string {
  const part = section.part.join('.');
  let spec = section.text ? (part ? `${part}.${section.text}` : section.text) : part;
  if (section.fields) spec += ` (${section.fields.join(' ')})`;
  return `BODY[${spec}]${partialStart === undefined ? '' : `<${partialStart}>`}`;
}

/** Items that read the message's bytes. */
export const needsBytes = (item: FetchItem): boolean => !['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'UID', 'MODSEQ'].includes(item.kind);

/** Items that set \Seen when the folder is writable (RFC 3501 §6.4.5). */
export const setsSeen = (item: FetchItem): boolean => (item.kind === 'BODY[]' && !item.peek) || item.kind === 'RFC822' || item.kind === 'RFC822.TEXT';

/** True when the whole message is the only content asked for, so it can be streamed unparsed. */
export const wantsOnlyWholeBody = (items: FetchItem[]): boolean =>
  items.filter(needsBytes).every((i) => i.kind === 'RFC822' || (i.kind === 'BODY[]' && i.section.part.length === 0 && !i.section.text && !i.partial));

export interface FetchSource {
  info: MessageInfo;
  /** The message's bytes, when some item needs more than the whole body. */
  bytes?: Buffer;
  /** A stream of the whole message (`info.size` bytes), when only the whole body is asked for. */
  stream?: () => Readable;
}

/** The parenthesized item list of one `* n FETCH (...)` response. */
export function fetchValues(items: FetchItem[], src: FetchSource): ImapValue[] {
  const out: ImapValue[] = [];
  let root: MimeEntity | undefined;
  const buf = () => src.bytes ?? Buffer.alloc(0);
  const parsed = () => (root ??= parseMessage(buf()));
  const whole = (): ImapValue => (src.stream ? { stream: src.stream(), size: src.info.size } : buf());
  const seen = new Set<string>();
  for (const item of items) {
    const key = item.kind === 'BODY[]' ? sectionName(item.section, item.partial?.start) : item.kind;
    if (seen.has(key)) continue; // a client asking twice gets one answer
    seen.add(key);
    switch (item.kind) {
      case 'UID':
        out.push(atom('UID'), src.info.uid);
        break;
      case 'FLAGS':
        out.push(atom('FLAGS'), flagList(src.info.flags));
        break;
      case 'MODSEQ':
        out.push(atom('MODSEQ'), [src.info.modseq]);
        break;
      case 'INTERNALDATE':
        out.push(atom('INTERNALDATE'), formatInternalDate(src.info.internalDate));
        break;
      case 'RFC822.SIZE':
        out.push(atom('RFC822.SIZE'), src.info.size);
        break;
      case 'ENVELOPE':
        out.push(atom('ENVELOPE'), envelope(parsed()));
        break;
      case 'BODYSTRUCTURE':
      case 'BODY':
        out.push(atom(item.kind), bodyStructure(buf(), parsed(), item.kind === 'BODYSTRUCTURE'));
        break;
      case 'RFC822':
        out.push(atom('RFC822'), whole());
        break;
      case 'RFC822.HEADER':
        out.push(atom('RFC822.HEADER'), sectionBytes(buf(), parsed(), { part: [], text: 'HEADER' }));
        break;
      case 'RFC822.TEXT':
        out.push(atom('RFC822.TEXT'), sectionBytes(buf(), parsed(), { part: [], text: 'TEXT' }));
        break;
      case 'BODY[]': {
        const isWhole = item.section.part.length === 0 && !item.section.text;
        if (isWhole && !item.partial) {
          out.push(atom(key), whole());
          break;
        }
        let data = isWhole ? buf() : sectionBytes(buf(), parsed(), item.section);
        if (item.partial) data = data.subarray(Math.min(item.partial.start, data.length), item.partial.start + item.partial.length);
        out.push(atom(key), data);
        break;
      }
    }
  }
  return out;
}
