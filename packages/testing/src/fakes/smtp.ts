/**
 * A tiny SMTP server (RFC 5321 subset) for tests: EHLO/HELO, optional AUTH PLAIN and LOGIN, MAIL FROM, RCPT TO,
 * DATA (dot-unstuffed), RSET, NOOP, QUIT. No STARTTLS is offered, so clients send in the clear on loopback. Every
 * accepted message is kept with its envelope and raw text, so a test can check what a real mailer (nodemailer)
 * delivered.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** Headers and body as sent (CRLF line ends, dot-unstuffed). */
  raw: string;
  /** The `user` of AUTH, when the client authenticated. */
  user?: string;
  /** A header's value (first occurrence, unfolded), case-insensitive. */
  header(name: string): string | undefined;
}

export interface FakeSmtpServer {
  host: string;
  port: number;
  mails: ReceivedMail[];
  waitFor(count: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

function headerOf(raw: string, name: string): string | undefined {
  const head = raw.split('\r\n\r\n')[0] ?? '';
  const unfolded = head.replace(/\r\n[ \t]+/g, ' ');
  const line = unfolded.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

export async function startFakeSmtpServer(
  opts: { credentials?: { user: string; pass: string } } = {},
): Promise<FakeSmtpServer> {
  const mails: ReceivedMail[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const send = (line: string) => socket.write(`${line}\r\n`);
    let buffer = '';
    let from = '';
    let to: string[] = [];
    let user: string | undefined;
    let mode: 'command' | 'data' | 'auth-user' | 'auth-pass' = 'command';
    let pendingUser = '';
    let data: string[] = [];

    const checkAuth = (u: string, p: string) => {
      if (!opts.credentials || (opts.credentials.user === u && opts.credentials.pass === p)) {
        user = u;
        send('235 2.7.0 Authentication successful');
      } else send('535 5.7.8 Authentication credentials invalid');
    };

    const handle = (line: string) => {
      if (mode === 'data') {
        if (line === '.') {
          const raw = data.join('\r\n');
          const mail: ReceivedMail = { from, to, raw, ...(user ? { user } : {}), header: (n) => headerOf(raw, n) };
          mails.push(mail);
          for (const w of waiters.splice(0)) {
            if (mails.length >= w.count) w.resolve();
            else waiters.push(w);
          }
          mode = 'command';
          data = [];
          from = '';
          to = [];
          send('250 2.0.0 OK queued');
        } else data.push(line.startsWith('..') ? line.slice(1) : line);
        return;
      }
      if (mode === 'auth-user') {
        pendingUser = Buffer.from(line, 'base64').toString('utf8');
        mode = 'auth-pass';
        send(`334 ${Buffer.from('Password:').toString('base64')}`);
        return;
      }
      if (mode === 'auth-pass') {
        mode = 'command';
        checkAuth(pendingUser, Buffer.from(line, 'base64').toString('utf8'));
        return;
      }
      const [verb = '', ...rest] = line.split(' ');
      const arg = rest.join(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO':
          socket.write('250-fake-smtp greets you\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
          return;
        case 'HELO':
          return send('250 fake-smtp');
        case 'AUTH': {
          const [mech = '', initial] = arg.split(' ');
          if (mech.toUpperCase() === 'PLAIN' && initial) {
            const [, u = '', p = ''] = Buffer.from(initial, 'base64').toString('utf8').split('\0');
            return checkAuth(u, p);
          }
          if (mech.toUpperCase() === 'LOGIN') {
            mode = 'auth-user';
            return send(`334 ${Buffer.from('Username:').toString('base64')}`);
          }
          return send('504 5.5.4 Unrecognized authentication type');
        }
        case 'MAIL':
          if (opts.credentials && !user) return send('530 5.7.0 Authentication required');
          from = /<([^>]*)>/.exec(arg)?.[1] ?? '';
          return send('250 2.1.0 OK');
        case 'RCPT':
          to.push(/<([^>]*)>/.exec(arg)?.[1] ?? '');
          return send('250 2.1.5 OK');
        case 'DATA':
          if (!from || to.length === 0) return send('503 5.5.1 Bad sequence of commands');
          mode = 'data';
          return send('354 End data with <CR><LF>.<CR><LF>');
        case 'RSET':
          from = '';
          to = [];
          return send('250 2.0.0 OK');
        case 'NOOP':
          return send('250 2.0.0 OK');
        case 'QUIT':
          send('221 2.0.0 Bye');
          socket.end();
          return;
        default:
          return send('502 5.5.2 Command not recognized');
      }
    };

    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let index: number;
      while ((index = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        handle(line);
      }
    });
    send('220 fake-smtp ESMTP ready');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    mails,
    waitFor(count) {
      if (mails.length >= count) return Promise.resolve(mails);
      return new Promise((resolve) => waiters.push({ count, resolve: () => resolve(mails) }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
