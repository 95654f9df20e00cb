// Command framing (RFC 3501 §2.2, §4.3; RFC 7888 LITERAL+): splits the bytes a client sends into
// whole commands. A line ending in `{n}` asks for n more bytes after a continuation request
// (`+`); `{n+}` sends them without waiting. Lines and literals are capped; the parser sees only
// complete commands, literal bytes inline, final CRLF removed.

const CR = 0x0d;
const LF = 0x0a;

export type ReaderEvent =
  /** One complete command: its line(s) and literals, without the final CRLF. */
  | { kind: 'command'; bytes: Buffer }
  /** A synchronizing literal was announced: the socket layer sends `+ ` and the client goes on. */
  | { kind: 'continue'; size: number }
  /** A command over a cap that we can skip: answered `BAD` with its tag, reading goes on. */
  | { kind: 'reject'; tag: string; text: string }
  /** Input we cannot resynchronize with (a non-synchronizing literal over the cap): close. */
  | { kind: 'fatal'; text: string };

export interface CommandReaderLimits {
  /** Longest line outside literals, in octets. */
  maxLineBytes: number;
  /** Largest single literal, in octets (an APPEND message). */
  maxLiteralBytes: number;
}

export interface CommandReader {
  push(chunk: Buffer): ReaderEvent[];
}

const LITERAL_AT_END = /\{(\d{1,20})(\+?)\}$/;

export function createCommandReader(limits: CommandReaderLimits): CommandReader {
  let pending: Buffer[] = []; // parts of the command read so far
  let pendingBytes = 0;
  let line: Buffer[] = []; // the current line, not yet ended
  let lineBytes = 0;
  let literalLeft = 0; // bytes still to copy into the current literal
  let skipping = false; // discarding the rest of an over-long line
  let dead = false;

  const reset = () => {
    pending = [];
    pendingBytes = 0;
  };

  const tagOf = (buf: Buffer) => {
    const m = /^([^\s(){%*"\\\]]{1,64}) /.exec(buf.subarray(0, 80).toString('latin1'));
    return m ? m[1] : '*';
  };

  return {
    push(chunk) {
      const out: ReaderEvent[] = [];
      let i = 0;
      while (i < chunk.length && !dead) {
        if (literalLeft > 0) {
          const n = Math.min(literalLeft, chunk.length - i);
          pending.push(chunk.subarray(i, i + n));
          pendingBytes += n;
          literalLeft -= n;
          i += n;
          continue;
        }
        const lf = chunk.indexOf(LF, i);
        const end = lf === -1 ? chunk.length : lf + 1;
        const piece = chunk.subarray(i, end);
        i = end;
        if (skipping) {
          if (lf !== -1) skipping = false;
          continue;
        }
        line.push(piece);
        lineBytes += piece.length;
        if (lineBytes > limits.maxLineBytes) {
          const head = Buffer.concat(pending.length ? [pending[0]] : line);
          out.push({ kind: 'reject', tag: tagOf(head), text: 'Line too long' });
          reset();
          line = [];
          lineBytes = 0;
          skipping = lf === -1;
          continue;
        }
        if (lf === -1) break;
        // a whole line: strip CRLF (a bare LF is taken as a line end too)
        let text = Buffer.concat(line);
        line = [];
        lineBytes = 0;
        text = text.subarray(0, text.length - (text.length >= 2 && text[text.length - 2] === CR ? 2 : 1));
        const m = LITERAL_AT_END.exec(text.subarray(Math.max(0, text.length - 24)).toString('latin1'));
        if (!m) {
          pending.push(text);
          out.push({ kind: 'command', bytes: pending.length === 1 ? pending[0] : Buffer.concat(pending) });
          reset();
          continue;
        }
        const size = Number(m[1]);
        const sync = m[2] === '';
        if (size > limits.maxLiteralBytes || pendingBytes + text.length + size > limits.maxLiteralBytes + limits.maxLineBytes) {
          const tag = tagOf(pending.length ? pending[0] : text);
          reset();
          if (sync) {
            // the client waits for `+` before sending the bytes: refusing now keeps us in step
            out.push({ kind: 'reject', tag, text: 'Literal too large' });
            continue;
          }
          out.push({ kind: 'fatal', text: 'Literal too large' });
          dead = true;
          break;
        }
        // the parser reads the literal's bytes right after its `{n}` CRLF
        pending.push(text, Buffer.from('\r\n'));
        pendingBytes += text.length + 2;
        literalLeft = size;
        if (sync) out.push({ kind: 'continue', size });
      }
      return out;
    },
  };
}
