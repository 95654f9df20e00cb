// Environment -> one validated, frozen Config (docs/operator.md, "Configuration").
// Three steps: read raw env, parse each option with its default, then cross-field checks.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isDomainName, normalizeDomain } from '../address.ts';

export interface RateLimit {
  count: number;
  seconds: number;
}

export interface Config {
  /** Mail domains this node serves, lower-case A-labels. */
  domains: readonly string[];
  /** Base URL other nodes use to reach us, without trailing slash. */
  publicUrl: string;
  /** False when publicUrl is the default derived from the port. */
  publicUrlExplicit: boolean;
  httpHost: string;
  /** 0 picks a free port (tests). */
  httpPort: number;
  tls?: { cert: string; key: string };
  /** Extra CA PEM trusted when calling peers. */
  trustCa?: string;
  databaseUrl?: string;
  dataDir: string;
  /** Static discovery: domain -> node base URL. */
  peers: ReadonlyMap<string, string>;
  allowPrivatePeers: boolean;
  smtpHost: string;
  smtpPort: number;
  submissionPort: number;
  smtpRelay?: string;
  /** IMAP for mail clients (PULLMAIL_IMAP_HOST/_PORT, default 127.0.0.1:2143; 0 disables; STARTTLS with PULLMAIL_TLS_*). */
  imapHost: string;
  imapPort: number;
  /** IMAP over implicit TLS (PULLMAIL_IMAPS_PORT, default 0 = off; needs PULLMAIL_TLS_CERT/_KEY). */
  imapsPort: number;
  greylistSeconds: number;
  /** Probe an unknown legacy sender's address at its domain's MX before accepting (PULLMAIL_SENDER_CALLOUT, default off; docs/cri.md). */
  senderCallout: boolean;
  /** TCP port the callout probes MX hosts on (PULLMAIL_CALLOUT_PORT, default 25). */
  calloutPort: number;
  rateDomain: RateLimit;
  rateSender: RateLimit;
  /** Messages one user may send or edit, over every door (PULLMAIL_SEND_LIMIT, default 1000 per 3600 s). */
  sendLimit: RateLimit;
  /** Failed logins from one client address (IPv6: one /64) before it is locked out for the rest of the window (PULLMAIL_AUTH_FAILURES_CLIENT, default 30 per 900 s). */
  authFailuresClient: RateLimit;
  /** Failed logins naming one account before it is locked out for the rest of the window (PULLMAIL_AUTH_FAILURES_ACCOUNT, default 10 per 900 s). */
  authFailuresAccount: RateLimit;
  adminToken?: string;
  /** Bearer token /metrics asks for (PULLMAIL_METRICS_TOKEN); unset means /metrics is open. */
  metricsToken?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Largest message we send or fetch, bytes (PULLMAIL_MAX_MESSAGE_BYTES, default 25 MiB). */
  maxMessageBytes: number;
  /** How long sent messages stay fetchable, seconds (PULLMAIL_RETENTION_DAYS, default 30 days). */
  retentionSeconds: number;
  /** How long a notification is retried before the delivery expires, seconds (default 5 days). */
  notifyRetrySeconds: number;
  /** Largest JSON/JOSE request body, bytes (PULLMAIL_MAX_REQUEST_BYTES, default 1 MiB + message size for sends). */
  maxRequestBytes: number;
  /** How often the queue looks for due work when idle, ms. */
  queuePollMs: number;
  /** How long a claimed queue item is reserved at most, seconds; on PostgreSQL a crashed process's items go free sooner, when its heartbeat stops (store/queue-workers.ts). */
  queueLeaseSeconds: number;
  /** Difficulty of the proof-of-work challenges we issue, in leading zero bits (PULLMAIL_POW_BITS, default 20). */
  powBits: number;
  /** How long a sender who answered a challenge stays allowed, seconds (PULLMAIL_ALLOW_WINDOW_DAYS, default 30). */
  allowWindowSeconds: number;
  /** How long an unanswered held request is kept, seconds (PULLMAIL_REQUEST_EXPIRY_DAYS, default 14). */
  requestExpirySeconds: number;
  /** How often a sender node asks again about a held or challenged delivery, seconds (default 900). */
  heldRecheckSeconds: number;
  /** Lookups of unknown sender domains one client address may cause before its notifications verify (PULLMAIL_LOOKUP_RATE_CLIENT, default 60/60). */
  lookupRateClient: RateLimit;
  /** The same for all clients together (PULLMAIL_LOOKUP_RATE, default 600/60). */
  lookupRate: RateLimit;
  /** Such lookups running at once (PULLMAIL_LOOKUP_CONCURRENCY, default 16; a quarter of it, at least 1, per client address). */
  lookupConcurrency: number;
  /** Overall deadline of one discovery or JWKS fetch, ms (PULLMAIL_LOOKUP_DEADLINE_SECONDS, default 15). */
  lookupDeadlineMs: number;
  /** Domains kept in each peer cache: discovery, keys (PULLMAIL_PEER_CACHE_ENTRIES, default 10000). */
  peerCacheEntries: number;
  /** SMTP connections at once, per listener (PULLMAIL_SMTP_MAX_CLIENTS, default 200); more get 421. */
  smtpMaxClients: number;
  /** SMTP connections at once from one client address, per listener (PULLMAIL_SMTP_MAX_CLIENTS_PER_IP, default 10); more get 421. */
  smtpMaxClientsPerIp: number;
  /**
   * How long a client address not seen before waits for the SMTP greeting, ms (PULLMAIL_SMTP_GREET_PAUSE_MS,
   * default 100; 0 = no pause): one that talks before it gets `421` (pregreet test, like Postfix's
   * postscreen). An address that waited is remembered and greeted at once next time.
   */
  smtpGreetPauseMs: number;
  /** How long an address that passed the greeting pause is remembered, ms (PULLMAIL_SMTP_GREET_REMEMBER_SECONDS, default 86400, per process). */
  smtpGreetRememberMs: number;
  /** IMAP connections at once, per listener (PULLMAIL_IMAP_MAX_CLIENTS, default 1000); more are refused with BYE. */
  imapMaxClients: number;
  /** IMAP connections at once from one client address, per listener (PULLMAIL_IMAP_MAX_CLIENTS_PER_IP, default 20); more are refused with BYE. */
  imapMaxClientsPerIp: number;
  /** HTTP requests in progress at once (PULLMAIL_HTTP_MAX_INFLIGHT, default 512); more get 503. */
  httpMaxInflight: number;
  /** Of those, requests to the pm1 notify endpoints (PULLMAIL_NOTIFY_MAX_INFLIGHT, default 64); more get 503. */
  notifyMaxInflight: number;
  /** Time a notify request body may take to arrive, ms (PULLMAIL_NOTIFY_BODY_SECONDS, default 10). */
  notifyBodyMs: number;
}

/** One problem per variable, phrased for the operator. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const KNOWN = new Set([
  'PULLMAIL_DOMAINS', 'PULLMAIL_PUBLIC_URL', 'PULLMAIL_HTTP_HOST', 'PULLMAIL_HTTP_PORT', 'PULLMAIL_TLS_CERT',
  'PULLMAIL_TLS_KEY', 'PULLMAIL_TRUST_CA', 'PULLMAIL_DATA_DIR', 'PULLMAIL_PEERS', 'PULLMAIL_ALLOW_PRIVATE_PEERS',
  'PULLMAIL_SMTP_HOST', 'PULLMAIL_SMTP_PORT', 'PULLMAIL_SUBMISSION_PORT', 'PULLMAIL_SMTP_RELAY',
  'PULLMAIL_IMAP_HOST', 'PULLMAIL_IMAP_PORT', 'PULLMAIL_IMAPS_PORT',
  'PULLMAIL_GREYLIST_SECONDS', 'PULLMAIL_SENDER_CALLOUT', 'PULLMAIL_CALLOUT_PORT', 'PULLMAIL_RATE_DOMAIN', 'PULLMAIL_RATE_SENDER', 'PULLMAIL_ADMIN_TOKEN', 'PULLMAIL_METRICS_TOKEN',
  'PULLMAIL_SEND_LIMIT', 'PULLMAIL_AUTH_FAILURES_CLIENT', 'PULLMAIL_AUTH_FAILURES_ACCOUNT',
  'PULLMAIL_LOG_LEVEL', 'PULLMAIL_MAX_MESSAGE_BYTES', 'PULLMAIL_RETENTION_DAYS', 'PULLMAIL_NOTIFY_RETRY_DAYS',
  'PULLMAIL_MAX_REQUEST_BYTES', 'PULLMAIL_QUEUE_POLL_MS', 'PULLMAIL_QUEUE_LEASE_SECONDS',
  'PULLMAIL_POW_BITS', 'PULLMAIL_ALLOW_WINDOW_DAYS', 'PULLMAIL_REQUEST_EXPIRY_DAYS', 'PULLMAIL_HELD_RECHECK_SECONDS',
  'PULLMAIL_LOOKUP_RATE_CLIENT', 'PULLMAIL_LOOKUP_RATE', 'PULLMAIL_LOOKUP_CONCURRENCY', 'PULLMAIL_LOOKUP_DEADLINE_SECONDS',
  'PULLMAIL_PEER_CACHE_ENTRIES', 'PULLMAIL_SMTP_MAX_CLIENTS', 'PULLMAIL_SMTP_MAX_CLIENTS_PER_IP', 'PULLMAIL_HTTP_MAX_INFLIGHT',
  'PULLMAIL_SMTP_GREET_PAUSE_MS', 'PULLMAIL_SMTP_GREET_REMEMBER_SECONDS',
  'PULLMAIL_IMAP_MAX_CLIENTS', 'PULLMAIL_IMAP_MAX_CLIENTS_PER_IP',
  'PULLMAIL_NOTIFY_MAX_INFLIGHT', 'PULLMAIL_NOTIFY_BODY_SECONDS',
]);

const port = z.coerce.number().int('must be a whole number').min(0, 'must be 0-65535').max(65535, 'must be 0-65535');
const positiveInt = z.coerce.number().int('must be a whole number').positive('must be positive');
const flag = z.enum(['0', '1', 'true', 'false', 'yes', 'no', '']).transform((v) => ['1', 'true', 'yes'].includes(v));
const httpUrl = z
  .string()
  .url('must be an http(s) URL')
  // zod runs refinements even after .url() failed: new URL() must not see an unparsable string
  .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL')
  .transform((u) => u.replace(/\/+$/, ''));
const rate = z
  .string()
  .regex(/^\d+\/\d+$/, 'must look like count/seconds, e.g. 300/60')
  .transform((v) => {
    const [count, seconds] = v.split('/').map(Number);
    return { count, seconds };
  })
  .refine((r) => r.count > 0 && r.seconds > 0, 'count and seconds must be positive');

/**
 * `postgres://user:secret@host/db` → `postgres://user:***@host/db`: a URL as it may be printed. Works on
 * strings that do not parse as URLs too (the userinfo ends at the last `@`, hosts never contain one).
 */
export function maskCredentials(url: string): string {
  const start = url.indexOf('://');
  const at = url.lastIndexOf('@');
  if (start < 0 || at < start) return url;
  const userinfo = url.slice(start + 3, at);
  const colon = userinfo.indexOf(':');
  return colon < 0 ? url : `${url.slice(0, start + 3)}${userinfo.slice(0, colon)}:***${url.slice(at)}`;
}

function domainList(raw: string, name: string, problems: string[]): string[] {
  const out: string[] = [];
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const d = normalizeDomain(part);
    if (!d || !isDomainName(d)) problems.push(`${name}: "${part}" is not a domain name`);
    else out.push(d);
  }
  return out;
}

function peerMap(raw: string | undefined, problems: string[]): Map<string, string> {
  const peers = new Map<string, string>();
  if (!raw) return peers;
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const domain = normalizeDomain(entry.slice(0, eq));
    const url = httpUrl.safeParse(entry.slice(eq + 1));
    if (eq < 1 || !domain || !isDomainName(domain)) problems.push(`PULLMAIL_PEERS: "${entry}" must be domain=https://host:port`);
    else if (!url.success) problems.push(`PULLMAIL_PEERS: "${entry}": the URL ${url.error.issues[0].message}`);
    else peers.set(domain, url.data);
  }
  return peers;
}

function readPem(path: string | undefined, name: string, problems: string[]): string | undefined {
  if (!path) return undefined;
  try {
    const pem = readFileSync(path, 'utf8');
    if (!pem.includes('-----BEGIN')) problems.push(`${name}: ${path} is not a PEM file`);
    return pem;
  } catch (err) {
    problems.push(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/**
 * Builds the node's Config from an environment record (usually process.env).
 * @throws ConfigError listing every bad variable; unknown PULLMAIL_* names are returned as warnings.
 */
export function loadConfig(env: Record<string, string | undefined>): { config: Config; warnings: string[] } {
  const problems: string[] = [];
  const warnings = Object.keys(env)
    .filter((k) => k.startsWith('PULLMAIL_') && !KNOWN.has(k))
    .map((k) => `unknown variable ${k} is ignored`);

  function opt<T>(name: string, schema: z.ZodType<T>, fallback: T): T {
    const raw = env[name];
    // blank counts as unset: z.coerce.number would read "  " as 0 (a random port, greylisting off)
    if (raw === undefined || raw.trim() === '') return fallback;
    const r = schema.safeParse(raw.trim());
    if (r.success) return r.data;
    // a database URL carries a password: never print it
    problems.push(`${name}: "${name === 'DATABASE_URL' ? maskCredentials(raw) : raw}" ${r.error.issues[0].message}`);
    return fallback;
  }

  const domains = domainList(env.PULLMAIL_DOMAINS || 'localhost', 'PULLMAIL_DOMAINS', problems);
  if (domains.length === 0 && problems.length === 0) problems.push('PULLMAIL_DOMAINS: at least one domain is needed');
  const httpPort = opt('PULLMAIL_HTTP_PORT', port, 8080);
  const httpHost = opt('PULLMAIL_HTTP_HOST', z.string().min(1), '127.0.0.1');
  const certPath = env.PULLMAIL_TLS_CERT || undefined;
  const keyPath = env.PULLMAIL_TLS_KEY || undefined;
  if (!!certPath !== !!keyPath) problems.push('PULLMAIL_TLS_CERT and PULLMAIL_TLS_KEY must be set together');
  const cert = readPem(certPath, 'PULLMAIL_TLS_CERT', problems);
  const key = readPem(keyPath, 'PULLMAIL_TLS_KEY', problems);
  const scheme = cert ? 'https' : 'http';
  const logLevel = opt('PULLMAIL_LOG_LEVEL', z.enum(['debug', 'info', 'warn', 'error', 'silent'], 'must be debug, info, warn, error or silent'), 'info');
  const maxMessageBytes = opt('PULLMAIL_MAX_MESSAGE_BYTES', positiveInt, 26_214_400);

  const config: Config = {
    domains,
    publicUrl: opt('PULLMAIL_PUBLIC_URL', httpUrl, `${scheme}://localhost:${httpPort}`),
    publicUrlExplicit: !!env.PULLMAIL_PUBLIC_URL?.trim(),
    httpHost,
    httpPort,
    tls: cert && key ? { cert, key } : undefined,
    trustCa: readPem(env.PULLMAIL_TRUST_CA || undefined, 'PULLMAIL_TRUST_CA', problems),
    databaseUrl: opt('DATABASE_URL', z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres://'), undefined as string | undefined),
    dataDir: opt('PULLMAIL_DATA_DIR', z.string().min(1), './data'),
    peers: peerMap(env.PULLMAIL_PEERS, problems),
    allowPrivatePeers: opt('PULLMAIL_ALLOW_PRIVATE_PEERS', flag, false),
    smtpHost: opt('PULLMAIL_SMTP_HOST', z.string().min(1), '127.0.0.1'),
    smtpPort: opt('PULLMAIL_SMTP_PORT', port, 2525),
    submissionPort: opt('PULLMAIL_SUBMISSION_PORT', port, 2587),
    smtpRelay: opt('PULLMAIL_SMTP_RELAY', z.string().regex(/^smtps?:\/\/[^/]+$/, 'must look like smtp://host:port'), undefined as string | undefined),
    imapHost: opt('PULLMAIL_IMAP_HOST', z.string().min(1), '127.0.0.1'),
    imapPort: opt('PULLMAIL_IMAP_PORT', port, 2143),
    imapsPort: opt('PULLMAIL_IMAPS_PORT', port, 0),
    greylistSeconds: opt('PULLMAIL_GREYLIST_SECONDS', z.coerce.number().int().min(0, 'must be 0 or more'), 300),
    senderCallout: opt('PULLMAIL_SENDER_CALLOUT', flag, false),
    calloutPort: opt('PULLMAIL_CALLOUT_PORT', port.refine((p) => p > 0, 'must be 1-65535'), 25),
    rateDomain: opt('PULLMAIL_RATE_DOMAIN', rate, { count: 3000, seconds: 60 }),
    rateSender: opt('PULLMAIL_RATE_SENDER', rate, { count: 300, seconds: 60 }),
    sendLimit: opt('PULLMAIL_SEND_LIMIT', rate, { count: 1000, seconds: 3600 }),
    authFailuresClient: opt('PULLMAIL_AUTH_FAILURES_CLIENT', rate, { count: 30, seconds: 900 }),
    authFailuresAccount: opt('PULLMAIL_AUTH_FAILURES_ACCOUNT', rate, { count: 10, seconds: 900 }),
    adminToken: opt('PULLMAIL_ADMIN_TOKEN', z.string(), undefined as string | undefined),
    metricsToken: opt('PULLMAIL_METRICS_TOKEN', z.string(), undefined as string | undefined),
    logLevel,
    maxMessageBytes,
    retentionSeconds: opt('PULLMAIL_RETENTION_DAYS', positiveInt, 30) * 86_400,
    notifyRetrySeconds: opt('PULLMAIL_NOTIFY_RETRY_DAYS', positiveInt, 5) * 86_400,
    maxRequestBytes: opt('PULLMAIL_MAX_REQUEST_BYTES', positiveInt, 1_048_576),
    queuePollMs: opt('PULLMAIL_QUEUE_POLL_MS', positiveInt, 1000),
    queueLeaseSeconds: opt('PULLMAIL_QUEUE_LEASE_SECONDS', positiveInt, 120),
    powBits: opt('PULLMAIL_POW_BITS', z.coerce.number().int().min(1, 'must be 1-26').max(26, 'must be 1-26'), 20),
    allowWindowSeconds: opt('PULLMAIL_ALLOW_WINDOW_DAYS', positiveInt, 30) * 86_400,
    requestExpirySeconds: opt('PULLMAIL_REQUEST_EXPIRY_DAYS', positiveInt, 14) * 86_400,
    heldRecheckSeconds: opt('PULLMAIL_HELD_RECHECK_SECONDS', positiveInt, 900),
    lookupRateClient: opt('PULLMAIL_LOOKUP_RATE_CLIENT', rate, { count: 60, seconds: 60 }),
    lookupRate: opt('PULLMAIL_LOOKUP_RATE', rate, { count: 600, seconds: 60 }),
    lookupConcurrency: opt('PULLMAIL_LOOKUP_CONCURRENCY', positiveInt, 16),
    lookupDeadlineMs: opt('PULLMAIL_LOOKUP_DEADLINE_SECONDS', positiveInt, 15) * 1000,
    peerCacheEntries: opt('PULLMAIL_PEER_CACHE_ENTRIES', positiveInt, 10_000),
    smtpMaxClients: opt('PULLMAIL_SMTP_MAX_CLIENTS', positiveInt, 200),
    smtpMaxClientsPerIp: opt('PULLMAIL_SMTP_MAX_CLIENTS_PER_IP', positiveInt, 10),
    smtpGreetPauseMs: opt('PULLMAIL_SMTP_GREET_PAUSE_MS', z.coerce.number().int('must be a whole number').min(0, 'must be 0 or more').max(60_000, 'must be at most 60000'), 100),
    smtpGreetRememberMs: opt('PULLMAIL_SMTP_GREET_REMEMBER_SECONDS', positiveInt, 86_400) * 1000,
    imapMaxClients: opt('PULLMAIL_IMAP_MAX_CLIENTS', positiveInt, 1000),
    imapMaxClientsPerIp: opt('PULLMAIL_IMAP_MAX_CLIENTS_PER_IP', positiveInt, 20),
    httpMaxInflight: opt('PULLMAIL_HTTP_MAX_INFLIGHT', positiveInt, 512),
    notifyMaxInflight: opt('PULLMAIL_NOTIFY_MAX_INFLIGHT', positiveInt, 64),
    notifyBodyMs: opt('PULLMAIL_NOTIFY_BODY_SECONDS', positiveInt, 10) * 1000,
  };
  // a per-address or per-endpoint cap above its total would never apply
  if (config.smtpMaxClientsPerIp > config.smtpMaxClients) problems.push(`PULLMAIL_SMTP_MAX_CLIENTS_PER_IP: ${config.smtpMaxClientsPerIp} exceeds PULLMAIL_SMTP_MAX_CLIENTS (${config.smtpMaxClients})`);
  if (config.imapMaxClientsPerIp > config.imapMaxClients) problems.push(`PULLMAIL_IMAP_MAX_CLIENTS_PER_IP: ${config.imapMaxClientsPerIp} exceeds PULLMAIL_IMAP_MAX_CLIENTS (${config.imapMaxClients})`);
  if (config.notifyMaxInflight > config.httpMaxInflight) problems.push(`PULLMAIL_NOTIFY_MAX_INFLIGHT: ${config.notifyMaxInflight} exceeds PULLMAIL_HTTP_MAX_INFLIGHT (${config.httpMaxInflight})`);
  if (config.lookupRateClient.count > config.lookupRate.count) problems.push(`PULLMAIL_LOOKUP_RATE_CLIENT: allows more lookups than PULLMAIL_LOOKUP_RATE`);
  if (config.imapsPort && !config.tls) problems.push('PULLMAIL_IMAPS_PORT: implicit TLS needs PULLMAIL_TLS_CERT and PULLMAIL_TLS_KEY');
  if (problems.length) throw new ConfigError(problems);
  // operator docs set no length: a short token is taken, but it is easy to guess
  if (config.adminToken !== undefined && config.adminToken.length < 16) warnings.push('PULLMAIL_ADMIN_TOKEN is shorter than 16 characters: easy to guess');
  // the placeholder of an example file, left as it was
  else if (config.adminToken !== undefined && /^change-?me/i.test(config.adminToken)) warnings.push('PULLMAIL_ADMIN_TOKEN is still the example placeholder: set a random one (openssl rand -hex 32)');
  return { config: Object.freeze(config), warnings };
}
