// Thunderbird autoconfig (the "config-v1.1.xml" format, also read by K-9/Thunderbird for Android and
// others): which IMAP and submission servers a mail client should use for this node's domains. Served
// unauthenticated at both places clients look (OPERATOR.md "IMAP").
import { Hono } from 'hono';
import type { Config } from '../../config/config.ts';
import type { AppContext } from '../../context.ts';

interface Endpoint {
  port: number;
  socketType: 'SSL' | 'STARTTLS' | 'plain';
}

/** The servers a client is told about; null when that door is off. Pure. */
export function mailEndpoints(config: Pick<Config, 'imapPort' | 'imapsPort' | 'submissionPort' | 'tls'>): { imap: Endpoint | null; submission: Endpoint | null } {
  const starttls = config.tls ? 'STARTTLS' : 'plain';
  return {
    imap: config.imapsPort ? { port: config.imapsPort, socketType: 'SSL' } : config.imapPort ? { port: config.imapPort, socketType: starttls } : null,
    submission: config.submissionPort ? { port: config.submissionPort, socketType: starttls } : null,
  };
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The document for `domain`, naming `host` for both servers. */
export function autoconfigXml(domain: string, host: string, ends: ReturnType<typeof mailEndpoints>): string {
  const server = (kind: 'incomingServer' | 'outgoingServer', type: string, e: Endpoint) => [
    `    <${kind} type="${type}">`,
    `      <hostname>${xml(host)}</hostname>`,
    `      <port>${e.port}</port>`,
    `      <socketType>${e.socketType}</socketType>`,
    '      <authentication>password-cleartext</authentication>',
    '      <username>%EMAILADDRESS%</username>',
    `    </${kind}>`,
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${xml(domain)}">`,
    `    <domain>${xml(domain)}</domain>`,
    `    <displayName>pullmail (${xml(domain)})</displayName>`,
    '    <displayShortName>pullmail</displayShortName>',
    ...(ends.imap ? server('incomingServer', 'imap', ends.imap) : []),
    ...(ends.submission ? server('outgoingServer', 'smtp', ends.submission) : []),
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}

export function autoconfigRoutes(app: Hono, ctx: AppContext): void {
  const answer = (c: { req: { query(k: string): string | undefined }; body(b: string, s: 200, h: Record<string, string>): Response }) => {
    // the address the client asks about picks the domain, when it is one of ours
    const asked = c.req.query('emailaddress')?.split('@').pop()?.toLowerCase();
    const domain = asked && ctx.config.domains.includes(asked) ? asked : ctx.config.domains[0];
    const host = new URL(ctx.publicUrl).hostname;
    return c.body(autoconfigXml(domain, host, mailEndpoints(ctx.config)), 200, { 'content-type': 'application/xml; charset=utf-8' });
  };
  app.get('/.well-known/autoconfig/mail/config-v1.1.xml', (c) => answer(c));
  app.get('/mail/config-v1.1.xml', (c) => answer(c));
}
