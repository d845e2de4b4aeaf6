// A TCP connection opened before the XMPP code is loaded. `xchat send|listen` know the server as
// soon as the profile is read; loading @xmpp/client and src/xmpp takes longer than a TCP
// handshake to a nearby server, so the handshake runs meanwhile and XmppSession.connect({
// earlySocket }) starts the stream on it. Only node:net (and the tiny diagnostics sink) here: this
// module is loaded up front.
import net from 'node:net';
import { reportCaught } from '../lib/diagnostics.js';

export interface EarlySocket {
  readonly host: string;
  readonly port: number;
  readonly socket: net.Socket;
  /** Resolves once connected; rejects with the socket's error. */
  readonly connected: Promise<void>;
  /** True once the socket has failed or closed: it is then not used (a fresh connect reports why). */
  readonly dead: boolean;
}

export function openEarlySocket(host: string, port: number): EarlySocket {
  const socket = net.connect({ host, port });
  let dead = false;
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    // Stays attached: an error before anyone else listens must not crash the process.
    socket.on('error', (e) => {
      dead = true;
      reject(e);
    });
    socket.once('close', () => {
      dead = true;
      reject(new Error('connection closed'));
    });
  });
  // The failure is the connect's to report (a fresh connect says why); it must not go unhandled.
  connected.catch((e: unknown) => reportCaught(`early socket to ${host}:${port}`, e, 'info'));
  return {
    host,
    port,
    socket,
    connected,
    get dead() {
      return dead;
    },
  };
}
