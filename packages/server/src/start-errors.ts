// Why a command could not start, in one line naming the setting to change (README "Configuration"):
// a listener's port taken or forbidden, a host that is not ours, a database that cannot be reached.
// Pure: takes the error and the config, returns the line or undefined (then the caller reports it as is).
import type { Config } from './config/config.ts';
import { maskCredentials } from './config/config.ts';

type Listeners = Pick<Config, 'httpHost' | 'httpPort' | 'smtpHost' | 'smtpPort' | 'submissionPort' | 'imapHost' | 'imapPort' | 'imapsPort' | 'databaseUrl'>;

interface ErrnoLike {
  code?: unknown;
  port?: unknown;
  address?: unknown;
  cause?: unknown;
  message?: unknown;
}

/** The settings behind each listener, in the order they are opened. */
function listenerSettings(cfg: Listeners): { port: number; portVar: string; hostVar: string }[] {
  return [
    { port: cfg.httpPort, portVar: 'PULLMAIL_HTTP_PORT', hostVar: 'PULLMAIL_HTTP_HOST' },
    { port: cfg.smtpPort, portVar: 'PULLMAIL_SMTP_PORT', hostVar: 'PULLMAIL_SMTP_HOST' },
    { port: cfg.submissionPort, portVar: 'PULLMAIL_SUBMISSION_PORT', hostVar: 'PULLMAIL_SMTP_HOST' },
    { port: cfg.imapPort, portVar: 'PULLMAIL_IMAP_PORT', hostVar: 'PULLMAIL_IMAP_HOST' },
    { port: cfg.imapsPort, portVar: 'PULLMAIL_IMAPS_PORT', hostVar: 'PULLMAIL_IMAP_HOST' },
  ];
}

/** Driver and system codes meaning "the database is not there for us", with what to tell the operator. */
const DATABASE_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused: is PostgreSQL running and listening there?',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset',
  '28P01': 'password authentication failed',
  '28000': 'the server refused this user',
  '3D000': 'the database does not exist',
};

function codes(err: unknown): ErrnoLike[] {
  const out: ErrnoLike[] = [];
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as ErrnoLike).cause, depth++) {
    out.push(e as ErrnoLike);
    // postgres.js reports a failed connect to several addresses as an AggregateError
    for (const inner of (e as { errors?: unknown[] }).errors ?? []) if (inner && typeof inner === 'object') out.push(inner as ErrnoLike);
  }
  return out;
}

/** One line for a failure at start, naming the variable to change; undefined when it is none of these. */
export function describeStartError(err: unknown, cfg: Listeners): string | undefined {
  for (const e of codes(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (typeof e.port === 'number' && ['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL'].includes(code)) {
      const setting = listenerSettings(cfg).find((s) => s.port === e.port);
      const where = `${String(e.address ?? '')}:${e.port}`;
      if (!setting) continue;
      if (code === 'EADDRINUSE') return `${setting.portVar}: ${where} is already in use by another program; stop it or choose another port`;
      if (code === 'EACCES') return `${setting.portVar}: no permission to listen on ${where} (ports below 1024 need root or CAP_NET_BIND_SERVICE); choose a port of 1024 or more`;
      return `${setting.hostVar}: ${String(e.address)} is not an address of this machine`;
    }
    if (cfg.databaseUrl && DATABASE_CODES[code]) {
      return `DATABASE_URL: cannot use the database at ${maskCredentials(cfg.databaseUrl)} (${DATABASE_CODES[code]})`;
    }
  }
  return undefined;
}
