// The subsystems a full node runs, in one list: createServer stays independent of them.
import type { Extension } from './server.ts';

export function nodeExtensions(): Extension[] {
  return [];
}
