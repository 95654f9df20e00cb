// The question of the human challenge page and how its answer is kept: only a hash of the
// normalized answer, compared case- and space-insensitively.
import { createHash } from 'node:crypto';

export function hashAnswer(answer: string): string {
  return createHash('sha256').update(answer.trim().toLowerCase().replace(/\s+/g, ' ')).digest('hex');
}
