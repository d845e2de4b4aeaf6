// Every use of @xmpp/client's private API, in one place. @xmpp/client is pinned to exactly 0.14.0
// in package.json because of this file: each function names the internal it relies on, so an
// upgrade means re-reading this file against the new @xmpp/connection source.
import type net from 'node:net';
import type tls from 'node:tls';
import { EventEmitter } from 'node:events';
import { StringDecoder } from 'node:string_decoder';
import type { Client } from '@xmpp/client';
import type { EarlySocket } from './early-socket.js';

/**
 * @xmpp/connection 0.14 turns each socket read into a string on its own (`_onData`), so a UTF-8
 * character split across two reads (TLS records) became two U+FFFD. One decoder per socket keeps
 * the partial bytes for the next read; a new socket (after STARTTLS) starts a new decoder.
 * Internals: `_onData`, `_attachSocket`, `parser`.
 */
export function decodeUtf8AcrossReads(c: Client): void {
  const internals = c as unknown as {
    _onData(data: Buffer | string): void;
    _attachSocket(socket: unknown): void;
    parser: { write(s: string): void } | null;
  };
  let decoder = new StringDecoder('utf8');
  const attach = internals._attachSocket.bind(c);
  internals._attachSocket = (socket: unknown) => {
    decoder = new StringDecoder('utf8');
    attach(socket);
  };
  internals._onData = (data: Buffer | string) => {
    internals.parser?.write(typeof data === 'string' ? data : decoder.write(data));
  };
}

/**
 * The client's first connect() takes over `early` instead of opening a socket: @xmpp/connection's
 * connect() (status 'connecting', attach the socket, wait for 'connect') minus the socket
 * creation. A socket that already failed or closed is dropped and the client connects as usual,
 * so errors read the same as without an early socket.
 * Internals: `connect`, `_findTransport`, `Transport`, `Socket`, `Parser`, `_status`, `_attachSocket`.
 */
export function useEarlySocket(c: Client, early: EarlySocket): void {
  const ownConnect = c.connect.bind(c);
  c.connect = async (service: string) => {
    c.connect = ownConnect; // once: a see-other-host redirect connects normally
    if (early.dead) {
      early.socket.destroy();
      return ownConnect(service);
    }
    const transport = c._findTransport(service);
    if (!transport) throw new Error('No compatible connection method found.');
    c.Transport = transport;
    c.Socket = transport.prototype.Socket;
    c.Parser = transport.prototype.Parser;
    c._status('connecting', service);
    // As @xmpp/connection-tcp's Socket class: no TLS yet.
    const socket = Object.assign(early.socket, { secure: false });
    const alreadyConnected = !socket.connecting;
    c._attachSocket(socket);
    if (alreadyConnected) c._status('connect'); // its 'connect' event fired before we listened
    else await early.connected; // the attached listener sets the status
  };
}

/** The TCP socket under the stream, for our own STARTTLS step. Internal: `socket`. */
export function rawSocket(c: Client): net.Socket {
  return c.socket as unknown as net.Socket;
}

/** Puts a verified TLS socket under the stream. Internal: `_attachSocket`. */
export function attachTlsSocket(c: Client, secure: tls.TLSSocket): void {
  c._attachSocket(new SecureSocket(secure));
}

/** The socket the client holds now (stop() may drop it before it is closed). Internal: `socket`. */
export function currentSocket(c: Client): { destroy?: () => void } | null {
  return c.socket as unknown as { destroy?: () => void } | null;
}

/** Destroys whatever socket the client holds now. Internal: `socket`. */
export function destroySocket(c: Client): void {
  (c.socket as unknown as { destroy?: () => void } | null)?.destroy?.();
}

/** True while the client still has a socket to write to. Internal: `socket`. */
export function hasSocket(c: Client): boolean {
  return !!c.socket;
}

/** What @xmpp/connection expects from a socket, over an already verified TLS socket. */
class SecureSocket extends EventEmitter {
  readonly secure = true;
  constructor(private readonly socket: tls.TLSSocket) {
    super();
    socket.on('data', (d: Buffer) => this.emit('data', d));
    socket.on('close', () => this.emit('close'));
    socket.on('error', (e: Error) => this.emit('error', e));
  }
  write(data: string, fn?: (err?: Error | null) => void): void {
    this.socket.write(data, fn);
  }
  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
}
