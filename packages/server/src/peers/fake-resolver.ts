// In-memory DnsResolver for tests: answers from tables, ENOTFOUND otherwise. Never touches the network.
import type { DnsResolver } from './discovery.ts';

export interface FakeDns {
  txt?: Record<string, string[][]>;
  mx?: Record<string, { exchange: string; priority: number }[]>;
}

function notFound(name: string): Error {
  return Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
}

export function createFakeResolver(records: FakeDns = {}): DnsResolver & { records: FakeDns; queries: string[] } {
  const queries: string[] = [];
  return {
    records,
    queries,
    async resolveTxt(name) {
      queries.push(`TXT ${name}`);
      const hit = records.txt?.[name];
      if (!hit) throw notFound(name);
      return hit;
    },
    async resolveMx(name) {
      queries.push(`MX ${name}`);
      const hit = records.mx?.[name];
      if (!hit) throw notFound(name);
      return hit;
    },
  };
}
