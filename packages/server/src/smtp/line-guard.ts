// SMTP smuggling guard (CVE-2023-51764 family): a line holding a single dot ends DATA only as
// <CRLF>.<CRLF> (RFC 5321 §4.1.1.4). A lone dot next to a bare CR or bare LF may be read as the end
// by another server on the path, so a message containing one is refused in-session instead of stored
// or relayed. smtp-server itself only ends DATA at <CRLF>.<CRLF>; this checks what it passes on.

type Eol = 'crlf' | 'cr' | 'lf';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export interface LineGuard {
  /** Feed the DATA stream in order, chunk by chunk (after smtp-server removed dot-stuffing). */
  feed(chunk: Buffer): void;
  /** Call once at the end; true when a smuggling sequence was seen. */
  end(): boolean;
}

export function createLineGuard(): LineGuard {
  // DATA starts at the beginning of a line: the DATA command ended with CRLF
  let lineStart: Eol | null = 'crlf';
  // set after <eol>"." : the kind of line ending before that dot
  let dotAfter: Eol | null = null;
  let pendingCr = false;
  let found = false;

  const eol = (kind: Eol) => {
    if (dotAfter && !(dotAfter === 'crlf' && kind === 'crlf')) found = true;
    dotAfter = null;
    lineStart = kind;
  };

  const byte = (b: number) => {
    if (pendingCr) {
      pendingCr = false;
      if (b === LF) return eol('crlf');
      eol('cr');
    }
    if (b === CR) {
      pendingCr = true;
      return;
    }
    if (b === LF) return eol('lf');
    if (b === DOT && lineStart) {
      dotAfter = lineStart;
      lineStart = null;
      return;
    }
    lineStart = null;
    dotAfter = null;
  };

  return {
    feed(chunk) {
      if (found) return;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i];
        // fast path: ordinary bytes far from any line ending change nothing once the line has started
        if (b !== CR && b !== LF && b !== DOT && !pendingCr && lineStart === null && dotAfter === null) continue;
        byte(b);
        if (found) return;
      }
    },
    end() {
      if (pendingCr) {
        pendingCr = false;
        eol('cr');
      }
      return found;
    },
  };
}
