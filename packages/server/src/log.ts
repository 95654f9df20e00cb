// Logger factory: JSON lines through pino, one named child per subsystem. Credentials, tokens, keys
// and SQL parameters (which may hold message bytes or token hashes) never reach a line.
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

/** pino's error serializer, minus what a database error carries about the query's values. */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  delete out.params;
  // drizzle ends a failed query's message with its parameters, which may be a whole message with line
  // breaks of its own: everything after `params:` goes, wherever pino repeats that message (the
  // message and stack of this error and of every error it is the cause of)
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    const redacted = e.message.replace(/\nparams: [\s\S]*$/, '\nparams: [redacted]');
    if (redacted === e.message) continue;
    for (const key of ['message', 'stack'] as const) {
      if (typeof out[key] === 'string') out[key] = (out[key] as string).replaceAll(e.message, () => redacted);
    }
  }
  if (err.cause instanceof Error) out.cause = serializeError(err.cause);
  return out;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { app: 'pullmail' }, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { err: serializeError } }, destination);
}
