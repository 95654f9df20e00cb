// Logger factory: JSON lines through pino, one named child per subsystem. Credentials never reach a line.
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'req.headers.authorization',
  'req.headers["pm-proof"]',
  'headers.authorization',
  'headers["pm-proof"]',
  'token',
  'password',
  'cap',
  'proof',
  '*.token',
  '*.password',
  '*.cap',
  'privateJwk',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { app: 'pullmail' }, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}
