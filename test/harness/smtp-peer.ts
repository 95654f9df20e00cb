// A scripted SMTP server on loopback, standing in for the MX of a sender's domain in callout tests.
// It answers MAIL/RCPT/RSET/QUIT from a fixed script (RCPT: 250 for `known` addresses, 550 5.1.1
// for the rest), refuses DATA, and records every command of every session.
import { createServer, type Server, type Socket } from 'node:net';

export interface ScriptedSmtpPeer {
  port: number;
  /** The commands of each session so far, in order, one array per connection. */
  sessions: string[][];
  close(): Promise<void>;
}

export async function startScriptedSmtpPeer(known: string[], host = '127.0.0.1'): Promise<ScriptedSmtpPeer> {
  const sessions: string[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const commands: string[] = [];
    sessions.push(commands);
    let buffered = '';
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 mx.sender.test ESMTP scripted');
    socket.setEncoding('latin1');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let i; (i = buffered.indexOf('\r\n')) >= 0; ) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 2);
        commands.push(line);
        const verb = line.split(/[ :]/)[0].toUpperCase();
        if (verb === 'EHLO') reply('250-mx.sender.test\r\n250 PIPELINING');
        else if (verb === 'HELO' || verb === 'MAIL' || verb === 'RSET' || verb === 'NOOP') reply('250 2.0.0 Ok');
        else if (verb === 'RCPT') {
          const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
          reply(known.includes(address.toLowerCase()) ? '250 2.1.5 Ok' : '550 5.1.1 <' + address + '>: Recipient address rejected: User unknown');
        } else if (verb === 'QUIT') {
          reply('221 2.0.0 Bye');
          socket.end();
        } else reply('502 5.5.2 Not here');
      }
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
