// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): "&" starts base64 of UTF-16BE with "," for
// "/", "-" ends it, "&-" is "&". Folder names are Unicode inside pullmail and encoded only on the wire.

export function encodeMailboxName(name: string): string {
  return name.replace(/&|[^\x20-\x7e]+/g, (run) => {
    if (run === '&') return '&-';
    const units = Buffer.alloc(run.length * 2);
    for (let i = 0; i < run.length; i++) units.writeUInt16BE(run.charCodeAt(i), i * 2);
    return `&${units.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
  });
}

/** Decodes a name as a client sent it; a malformed `&...-` run is kept as typed. */
export function decodeMailboxName(name: string): string {
  return name.replace(/&([A-Za-z0-9+,]*)-/g, (run, b64: string) => {
    if (b64 === '') return '&';
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    if (bytes.length === 0 || bytes.length % 2 !== 0) return run;
    let out = '';
    for (let i = 0; i < bytes.length; i += 2) out += String.fromCharCode(bytes.readUInt16BE(i));
    return out;
  });
}
