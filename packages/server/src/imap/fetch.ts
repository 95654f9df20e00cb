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

/** How a FETCH reads the messages it answers: runs of several read at once, each within these bounds. */
export interface RunLimits {
  /** Messages in one run. */
  messages: number;
  /** Bytes (by RFC822.SIZE) in one run: at most two runs are in memory, the one sent and the next. */
  bytes: number;
  /** A message of more bytes than this is a run of its own, streamed rather than read (whole-body FETCH only). */
  streamOver: number;
}

export const RUN_LIMITS: RunLimits = { messages: 64, bytes: 4 * 1024 * 1024, streamOver: 1024 * 1024 };

export interface FetchRun {
  targets: [seq: number, uid: number][];
  /** One large message, streamed. */
  stream: boolean;
}

/**
 * Splits the messages of a FETCH (in answer order) into runs read with one backend call each: consecutive
 * messages until a run holds `messages` of them or would pass `bytes`; with `streamable`, a message over
 * `streamOver` alone and streamed. A message larger than `bytes` that is not streamed is a run by itself.
 */
export function fetchRuns(targets: readonly [number, number][], sizeOf: (uid: number) => number, streamable: boolean, limits: RunLimits = RUN_LIMITS): FetchRun[] {
  const runs: FetchRun[] = [];
  let run: FetchRun | undefined;
  let bytes = 0;
  for (const target of targets) {
    const size = sizeOf(target[1]);
    if (streamable && size > limits.streamOver) {
      runs.push({ targets: [target], stream: true });
      run = undefined;
      continue;
    }
    if (!run || run.targets.length >= limits.messages || bytes + size > limits.bytes) {
      run = { targets: [], stream: false };
      runs.push(run);
      bytes = 0;
    }
    run.targets.push(target);
    bytes += size;
  }
  return runs;
}
