// Starting and stopping one smtp-server listener, with the options both gateway roles share.
import { isIP } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AppContext } from '../context.ts';
import type { Logger } from '../log.ts';
import { smtpServerResolver } from './dns.ts';

export interface SmtpListener {
  port: number;
  close(): Promise<void>;
}

/** The name we greet with and put in trace fields: the host of the node's public URL. */
export const serverName = (ctx: AppContext): string => new URL(ctx.publicUrl).hostname;

export const isLoopback = (host: string): boolean => host === 'localhost' || /^127\./.test(host) || host === '::1' || (isIP(host) === 0 && host.endsWith('.localhost'));

/** Options every gateway listener shares; TLS material from PULLMAIL_TLS_* enables STARTTLS. */
export function baseOptions(ctx: AppContext): SMTPServerOptions {
  const tls = ctx.config.tls;
  return {
    name: serverName(ctx),
    secure: false,
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    size: ctx.config.maxMessageBytes,
    // our replies carry their own enhanced codes in the text (smtp/replies.ts)
    hideENHANCEDSTATUSCODES: true,
    hideDSN: true,
    resolver: smtpServerResolver(ctx.resolver),
    socketTimeout: 120_000,
    closeTimeout: 5_000,
    logger: false,
  };
}

export async function startListener(options: SMTPServerOptions, at: { host: string; port: number }, log: Logger): Promise<SmtpListener> {
  const server = new SMTPServer(options);
  server.on('error', (err) => log.warn({ err: err.message }, 'smtp connection error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as { port: number }).port;
  log.info({ host: at.host, port }, 'smtp listener started');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
