// `pullmail-server dns show <domain> --check`: the records the domain needs (dns-records.ts) compared with
// what DNS answers for each, through the node's injectable DnsResolver (peers/discovery.ts).
import type { DnsResolver } from './peers/discovery.ts';
import { zoneLine, type DnsRecord } from './dns-records.ts';

/** ok: DNS has it; missing: DNS has nothing of that kind there; differs: DNS has something else; unanswered: lookup failed. */
export type CheckState = 'ok' | 'missing' | 'differs' | 'unanswered';

export interface RecordCheck {
  record: DnsRecord;
  state: CheckState;
  /** What DNS has in its place, as zone-file lines (differs), or the lookup error code (unanswered). */
  found: string[];
}

const host = (name: string) => name.toLowerCase().replace(/\.$/, '');
/** `v=spf1`, `v=DKIM1`…: which TXT records at a name are the same kind as ours. */
const txtKind = (text: string) => /^\s*v=([^;\s]+)/i.exec(text)?.[1].toLowerCase();
const txtNormal = (text: string) => text.replace(/\s*;\s*/g, '; ').replace(/;\s*$/, '').trim();

/** Does one answer stand for the expected record? */
function matches(want: DnsRecord, got: DnsRecord): boolean {
  switch (want.type) {
    case 'MX':
      // the priority is the operator's to choose (a backup MX beside ours); the exchange must be ours
      return got.type === 'MX' && host(got.exchange) === host(want.exchange);
    case 'TXT':
      return got.type === 'TXT' && txtNormal(got.text) === txtNormal(want.text);
    case 'CNAME':
      return got.type === 'CNAME' && host(got.target) === host(want.target);
    case 'A':
    case 'AAAA':
      return got.type === want.type && got.address.toLowerCase() === want.address.toLowerCase();
    case 'SRV':
      return got.type === 'SRV' && got.port === want.port && host(got.target) === host(want.target);
  }
}

/** The answers that compete with the expected record: for TXT only those of the same `v=` kind. Pure. */
export function compareRecord(want: DnsRecord, answers: DnsRecord[]): Omit<RecordCheck, 'record'> {
  const kind = want.type === 'TXT' ? txtKind(want.text) : undefined;
  const rivals = answers.filter((a) => a.type === want.type && (a.type !== 'TXT' || txtKind(a.text) === kind));
  if (rivals.some((a) => matches(want, a))) return { state: 'ok', found: [] };
  return rivals.length ? { state: 'differs', found: rivals.map(zoneLine) } : { state: 'missing', found: [] };
}

/** No such name or no record of that type: an answer, not a failure. */
const isNoAnswer = (err: unknown) => ['ENOTFOUND', 'ENODATA'].includes((err as { code?: string }).code ?? '');

async function lookup(resolver: DnsResolver, name: string, type: DnsRecord['type']): Promise<DnsRecord[]> {
  switch (type) {
    case 'MX':
      return (await resolver.resolveMx(name)).map((a) => ({ name, type, priority: a.priority, exchange: host(a.exchange) }));
    case 'TXT':
      return (await resolver.resolveTxt(name)).map((parts) => ({ name, type, text: parts.join('') }));
    default: {
      if (!resolver.resolve) return [];
      const answers = await resolver.resolve(name, type);
      if (type === 'SRV') {
        return (answers as { priority: number; weight: number; port: number; name: string }[]).map((a) => ({
          name, type, priority: a.priority, weight: a.weight, port: a.port, target: host(a.name),
        }));
      }
      if (type === 'CNAME') return (answers as string[]).map((t) => ({ name, type, target: host(t) }));
      return (answers as string[]).map((address) => ({ name, type, address }));
    }
  }
}

/** Each record with what DNS answers for its name and type, in the order given. */
export async function checkRecords(records: DnsRecord[], resolver: DnsResolver): Promise<RecordCheck[]> {
  return Promise.all(records.map(async (record) => {
    let answers: DnsRecord[];
    try {
      answers = await lookup(resolver, record.name, record.type);
    } catch (err) {
      if (!isNoAnswer(err)) return { record, state: 'unanswered' as const, found: [String((err as { code?: string }).code ?? (err as Error).message)] };
      answers = [];
    }
    return { record, ...compareRecord(record, answers) };
  }));
}

/** One line per record: its state, the record, and what DNS has instead. */
export function checkLine(c: RecordCheck): string {
  const line = `${c.state.padEnd(10)} ${zoneLine(c.record)}`;
  if (c.state === 'differs') return `${line}  (DNS has: ${c.found.join(' | ')})`;
  if (c.state === 'unanswered') return `${line}  (${c.found.join(' ')})`;
  return line;
}
