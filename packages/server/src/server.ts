// createServer(config) wires every subsystem of a node and returns { start, close }.
// Dependencies that tests replace (DNS resolver, clock, log destination) arrive as options.
import { createAccounts } from './accounts/accounts.ts';
import { createAliases } from './accounts/aliases.ts';
import { createCredentialChanges } from './accounts/credential-changes.ts';
import type { Config } from './config/config.ts';
import type { AppContext } from './context.ts';
import { createApp, type RouteMount } from './http/app.ts';
import { listenControl } from './http/control-socket.ts';
import { listen, type Listener } from './http/listen.ts';
import { createLogger, type Logger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { createDiscovery, systemResolver, type DnsResolver } from './peers/discovery.ts';
import { createFetcher } from './peers/fetcher.ts';
import { createLookupGate } from './peers/lookup-gate.ts';
import { createPeerKeys, withOwnKeys } from './peers/peer-keys.ts';
import { createGuessLimits } from './policy/guess-limits.ts';
import { createLoginThrottle } from './policy/login-throttle.ts';
import { createRateLimits } from './policy/rate-limits.ts';
import { randomId } from './protocol/jws.ts';
import { loadKeySet } from './protocol/key-set.ts';
import { startHeartbeat, type Heartbeat } from './queue/heartbeat.ts';
import { IN_MEMORY, openDatabase, type Database } from './store/db.ts';
import { releaseAllLeases } from './store/deliveries.ts';
import { createLimiterFactory } from './store/rate-counters.ts';
import { ensureDomains } from './store/mailboxes.ts';

export interface ServerOptions {
  resolver?: DnsResolver;
  now?: () => number;
  logger?: Logger;
}

export interface Worker {
  /** Workers that listen (the SMTP gateway) resolve once bound; a failure stops the node's start. */
  start(): void | Promise<void>;
  stop(): Promise<void>;
  /** Which queue this is, for `ctx.kick(name)`. */
  name?: string;
  /** Look for due work now rather than at the next poll. */
  kick?(): void;
}

/** Subsystems beyond the foundation plug in here: routes and background workers. */
export interface Extension {
  routes?: RouteMount;
  workers?: (ctx: AppContext) => Worker[];
}

export interface PullmailServer {
  /** Opens the database (migrating it), loads keys and listens. */
  start(): Promise<{ port: number; url: string }>;
  /** Graceful stop: no new requests, in-flight ones finish, workers stop, database closes. */
  close(): Promise<void>;
  readonly ctx: AppContext;
}

/** Opens the database and brings it to the current schema; used by `start` and `pullmail-server migrate`. */
export async function openMigrated(config: Config) {
  const database = await openDatabase(config);
  try {
    await database.migrate();
    await ensureDomains(database.db, config.domains);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}

/**
 * Builds the context every route and worker shares, over an open, migrated database. createServer
 * calls it at start; route tests (http/test-app.ts) call it over an in-memory PGlite.
 */
export async function createContext(config: Config, database: Database, opts: ServerOptions & { kick: AppContext['kick']; leaseOwner?: string | null }): Promise<AppContext> {
  const now = opts.now ?? Date.now;
  const fetcher = createFetcher({ allowPrivate: config.allowPrivatePeers, trustCa: config.trustCa });
  const resolver = opts.resolver ?? systemResolver();
  // one gate for every lookup an unverified request causes (protocol §2)
  const gate = createLookupGate({
    perClient: config.lookupRateClient,
    total: config.lookupRate,
    maxConcurrent: config.lookupConcurrency,
    maxConcurrentPerClient: Math.max(1, Math.floor(config.lookupConcurrency / 4)),
  }, now);
  const cacheLimits = { gate, maxEntries: config.peerCacheEntries, deadlineMs: config.lookupDeadlineMs };
  const discovery = createDiscovery({ peers: config.peers, resolver, fetcher, now, ...cacheLimits });
  // retired keys stay published while capabilities (retention) and consent tokens (≤ 365 days) they signed live
  const keys = await loadKeySet(database.db, { now: () => new Date(now()), publishSeconds: Math.max(config.retentionSeconds, 365 * 86_400) + 86_400 });
  const log = opts.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics(() => ctx.db);
  // counters in memory on PGlite, in rate_counters when processes share PostgreSQL
  const limiter = createLimiterFactory(database);
  const credentialChanges = createCredentialChanges();
  const ctx: AppContext = {
    config,
    database,
    db: database.db,
    keys,
    accounts: createAccounts(database.db, config.domains, now, credentialChanges),
    credentialChanges,
    aliases: createAliases(database.db, config.domains),
    log,
    fetcher,
    resolver,
    discovery,
    peerKeys: withOwnKeys(config.domains, keys, createPeerKeys({ discovery, fetcher, now, ...cacheLimits })),
    metrics,
    rateLimits: createRateLimits({ domain: config.rateDomain, sender: config.rateSender, send: config.sendLimit }, limiter),
    loginThrottle: createLoginThrottle({ log, metrics }, { client: config.authFailuresClient, account: config.authFailuresAccount }, limiter),
    challengeGuesses: createGuessLimits(),
    now,
    publicUrl: config.publicUrl,
    leaseOwner: opts.leaseOwner ?? null,
    kick: opts.kick,
  };
  return ctx;
}

export function createServer(config: Config, opts: ServerOptions = {}, extensions: Extension[] = []): PullmailServer {
  const now = opts.now ?? Date.now;
  const log = opts.logger ?? createLogger(config.logLevel);
  let ctx: AppContext | undefined;
  let listener: Listener | undefined;
  let closeControl: (() => Promise<void>) | undefined;
  let workers: Worker[] = [];
  let heartbeat: Heartbeat | undefined;

  return {
    get ctx() {
      if (!ctx) throw new Error('server not started');
      return ctx;
    },
    async start() {
      const database = await openMigrated(config);
      if (!database.shared) await releaseAllLeases(database.db);
      // several processes: the leases this one takes are tied to its heartbeat (store/queue-workers.ts)
      const leaseOwner = database.shared ? randomId(12) : null;
      if (leaseOwner) heartbeat = await startHeartbeat(database.db, leaseOwner, log.child({ sub: 'queue' }));
      ctx = await createContext(config, database, { ...opts, now, logger: log, leaseOwner, kick: (queue) => workers.forEach((w) => (!queue || w.name === queue) && w.kick?.()) });
      const app = createApp(ctx, extensions.flatMap((e) => (e.routes ? [e.routes] : [])));
      listener = await listen(app, { host: config.httpHost, port: config.httpPort, tls: config.tls });
      if (config.httpPort === 0 && !config.publicUrlExplicit) {
        ctx.publicUrl = `${config.tls ? 'https' : 'http'}://localhost:${listener.port}`;
      }
      // the embedded database is this process's alone: user commands reach it through the control socket
      if (database.kind === 'pglite' && config.dataDir !== IN_MEMORY) closeControl = await listenControl(ctx, config.dataDir);
      workers = extensions.flatMap((e) => e.workers?.(ctx!) ?? []);
      for (const w of workers) await w.start();
      log.info({ port: listener.port, url: ctx.publicUrl, domains: config.domains, db: database.kind }, 'pullmail node started');
      return { port: listener.port, url: ctx.publicUrl };
    },
    async close() {
      await listener?.close();
      await closeControl?.();
      await Promise.all(workers.map((w) => w.stop()));
      await heartbeat?.stop();
      await ctx?.fetcher.close();
      await ctx?.database.close();
      log.info('pullmail node stopped');
    },
  };
}
