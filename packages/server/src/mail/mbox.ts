// mbox files as `GET /api/v1/export` writes them and `pullmail-server import` reads them (docs/operator.md
// "Export and import"): mboxrd (RFC 4155, the "From " line and the >From quoting of qmail's mbox(5)).
// Both directions stream: the writer escapes a body chunk by chunk, the reader holds one message at a
// time (and never more than `maxMessageBytes` of it), so a 1 GB file goes through in flat memory. Pure:
// bytes in, bytes out, no I/O.

const LF = 0x0a;
const GT = 0x3e;
const FROM = Buffer.from('From ');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
/** A line kept whole while it is read; past this a line goes on as fragments (no "From " can start one). */
const MAX_HELD_LINE = 64 * 1024;

/** `From <sender> <asctime date, UTC>` and its LF: the line that starts each message. */
export function postmarkLine(sender: string, date: Date): string {
  // an envelope sender with a space or a non-ASCII character would not read back as one word
  const who = /^[\x21-\x7e]{1,320}$/.test(sender) ? sender : 'MAILER-DAEMON';
  const d = Number.isNaN(date.getTime()) ? new Date(0) : date;
  const two = (n: number) => String(n).padStart(2, '0');
  const asctime = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
  return `From ${who} ${asctime}\n`;
}

/** How far `buf[at..]` matches `>*From `: 'yes', 'no', or 'open' when the buffer ends first. */
function quotedFrom(buf: Buffer, at: number): 'yes' | 'no' | 'open' {
  let i = at;
  while (i < buf.length && buf[i] === GT) i++;
  for (let k = 0; k < FROM.length; k++) {
    if (i + k >= buf.length) return 'open';
    if (buf[i + k] !== FROM[k]) return 'no';
  }
  return 'yes';
}

/**
 * A message body quoted for mboxrd: every line that starts with `>*From ` gets one more `>`. The
 * output ends with a line break and the blank line that separates it from the next message.
 */
export async function* mboxrdBody(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let held: Buffer | null = null;
  let atLineStart = true;
  let last = LF;
  for await (const piece of chunks) {
    if (!piece.length) continue;
    const buf: Buffer = held ? Buffer.concat([held, piece]) : piece;
    held = null;
    let from = 0;
    // where the line after the one holding `at` starts (-1: it does not start in this chunk)
    const after = (at: number) => {
      const nl = buf.indexOf(LF, at);
      return nl < 0 ? -1 : nl + 1;
    };
    for (let lineStart = atLineStart ? 0 : after(0); lineStart >= 0 && lineStart < buf.length; lineStart = after(lineStart)) {
      const q = quotedFrom(buf, lineStart);
      if (q === 'yes') {
        if (lineStart > from) yield buf.subarray(from, lineStart);
        yield Buffer.from('>');
        from = lineStart;
      } else if (q === 'open') {
        // the chunk ends inside what may still become ">From ": decide with the next chunk
        held = buf.subarray(lineStart);
        atLineStart = true;
        break;
      }
    }
    const end = held ? buf.length - held.length : buf.length;
    if (end > from) yield buf.subarray(from, end);
    if (!held) {
      last = buf[buf.length - 1];
      atLineStart = last === LF;
    }
  }
  if (held) {
    yield held;
    last = held[held.length - 1];
  }
  // mboxrd: a message ends with a line break, then a blank line before the next "From "
  yield Buffer.from(last === LF ? '\n' : '\n\n');
}

/** The date of a postmark line (`From x Wed Dec  2 05:45:26 2026`, a zone such as `+0000` allowed), or undefined. */
export function postmarkDate(line: string): Date | undefined {
  const m = /([A-Z][a-z]{2}) +(\d{1,2}) +(\d{1,2}):(\d\d)(?::(\d\d))?(?: +([+-]\d{4}|UTC|GMT))? +(\d{4})/.exec(line);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1]);
  if (month < 0) return undefined;
  let ms = Date.UTC(Number(m[7]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
  if (m[6] && /^[+-]/.test(m[6])) {
    const sign = m[6][0] === '-' ? -1 : 1;
    ms -= sign * (Number(m[6].slice(1, 3)) * 60 + Number(m[6].slice(3, 5))) * 60_000;
  }
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** A postmark in full: `From ` then a word, then an asctime date (RFC 4155 §2). */
const POSTMARK = /^From \S* +(?:[A-Z][a-z]{2} +)?[A-Z][a-z]{2} +\d{1,2} +\d{1,2}:\d\d/;

export type MboxItem =
  | { kind: 'message'; raw: Buffer; sender: string; date: Date | undefined; offset: number }
  | { kind: 'failed'; offset: number; reason: string };

const isBlank = (line: Buffer) => line.length === 1 ? line[0] === LF : line.length === 2 && line[0] === 0x0d && line[1] === LF;

/**
 * The messages of an mbox (mboxrd or mboxo), read as mboxrd: `>From ` loses one `>`. A line starting
 * with "From " begins a message when it is the first line, follows a blank line (which is the
 * separator, not part of the message), or is a complete postmark. Text before the first postmark and
 * messages over `maxMessageBytes` come out as `failed` items, with the byte offset where they start,
 * and reading goes on.
 */
export async function* readMbox(chunks: AsyncIterable<Buffer>, opts: { maxMessageBytes: number }): AsyncGenerator<MboxItem> {
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let fragment = false; // the current line was cut into fragments (it is very long)
  // the message being read
  let current: { sender: string; date: Date | undefined; offset: number } | null = null;
  let parts: Buffer[] = [];
  let size = 0;
  let oversize = false;
  let preamble: { offset: number; text: boolean } | null = null;
  let pendingBlank: Buffer | null = null;
  let lineOffset = 0;

  const add = (bytes: Buffer) => {
    size += bytes.length;
    if (size > opts.maxMessageBytes) {
      oversize = true;
      parts = [];
    }
    if (!oversize) parts.push(bytes);
  };
  const finish = (): MboxItem | undefined => {
    if (current) {
      const done = current;
      const raw = Buffer.concat(parts);
      const over = oversize;
      current = null;
      parts = [];
      size = 0;
      oversize = false;
      if (over) return { kind: 'failed', offset: done.offset, reason: `the message is larger than ${opts.maxMessageBytes} bytes` };
      return { kind: 'message', raw, sender: done.sender, date: done.date, offset: done.offset };
    }
    if (preamble?.text) {
      const at = preamble.offset;
      preamble = null;
      return { kind: 'failed', offset: at, reason: 'text before the first "From " line is not a message (is this an mbox file?)' };
    }
    preamble = null;
    return undefined;
  };
  const body = (line: Buffer, startsLine: boolean) => {
    if (!current) {
      preamble ??= { offset: lineOffset, text: false };
      if (!isBlank(line)) preamble.text = true;
      return;
    }
    // mboxrd: one ">" less on a quoted From line
    add(startsLine && line[0] === GT && quotedFrom(line, 0) === 'yes' ? line.subarray(1) : line);
  };
  function* onLine(line: Buffer, startsLine: boolean, complete: boolean): Generator<MboxItem> {
    if (startsLine && complete && line.subarray(0, 5).equals(FROM)) {
      const text = line.toString('latin1');
      const first = current === null && preamble === null && lineOffset === 0;
      if (first || pendingBlank || POSTMARK.test(text)) {
        pendingBlank = null;
        const done = finish();
        if (done) yield done;
        const sender = /^From (\S*)/.exec(text)?.[1] ?? '';
        current = { sender, date: postmarkDate(text), offset: lineOffset };
        return;
      }
    }
    if (pendingBlank) {
      body(pendingBlank, true);
      pendingBlank = null;
    }
    if (startsLine && complete && isBlank(line)) pendingBlank = line;
    else body(line, startsLine);
  }

  for await (const piece of chunks) {
    let at = 0;
    while (at < piece.length) {
      const nl = piece.indexOf(LF, at);
      if (nl < 0) {
        carry.push(piece.subarray(at));
        carryBytes += piece.length - at;
        if (carryBytes > MAX_HELD_LINE) {
          // a very long line: it cannot be a postmark past its first fragment
          const part = Buffer.concat(carry);
          yield* onLine(part, !fragment, false);
          lineOffset += part.length;
          fragment = true;
          carry = [];
          carryBytes = 0;
        }
        break;
      }
      const tail = piece.subarray(at, nl + 1);
      const line = carry.length ? Buffer.concat([...carry, tail]) : tail;
      carry = [];
      carryBytes = 0;
      yield* onLine(line, !fragment, !fragment);
      lineOffset += line.length;
      fragment = false;
      at = nl + 1;
    }
  }
  if (carry.length) {
    const line = Buffer.concat(carry);
    yield* onLine(line, !fragment, !fragment);
  }
  // the blank line after the last message is its separator
  pendingBlank = null;
  const done = finish();
  if (done) yield done;
}
