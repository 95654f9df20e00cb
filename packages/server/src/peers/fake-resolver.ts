// In-memory DnsResolver for tests: answers from tables, ENOTFOUND otherwise. Never touches the network.
import type { DnsResolver } from './discovery.ts';

export interface FakeDns {
  txt?: Record<string, string[][]>;
  mx?: Record<string, { exchange: string; priority: number }[]>;
  /** Other record types, keyed `<TYPE> <name>`: `{ 'A mx.x.test': ['192.0.2.1'], 'PTR 1.0.0.127.in-addr.arpa': ['h.x.test'] }`. */
  rr?: Record<string, unknown[]>;
}

function notFound(name: string): Error {
  return Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
}

export function createFakeResolver(records: FakeDns = {}): DnsResolver & Required<Pick<DnsResolver, 'resolve'>> & { records: FakeDns; queries: string[] } {
  const queries: string[] = [];
  const fake = {
    records,
    queries,
    async resolveTxt(name: string) {
      queries.push(`TXT ${name}`);
      const hit = records.txt?.[name];
      if (!hit) throw notFound(name);
      return hit;
    },
    async resolveMx(name: string) {
      queries.push(`MX ${name}`);
      const hit = records.mx?.[name];
      if (!hit) throw notFound(name);
      return hit;
    },
    async resolve(name: string, rrtype: string): Promise<unknown[]> {
      const type = rrtype.toUpperCase();
      if (type === 'TXT') return fake.resolveTxt(name);
      if (type === 'MX') return fake.resolveMx(name);
      queries.push(`${type} ${name}`);
      const hit = records.rr?.[`${type} ${name}`];
      if (!hit) throw notFound(name);
      return hit;
    },
  };
  return fake;
}
