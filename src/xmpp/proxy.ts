// SOCKS5 (Tor's too): the XMPP stream and file transfers go through the proxy, host names are
// resolved by the proxy (never by us: no DNS leak, and .onion names work), and a proxy that fails
// is an error, never a reason to connect directly.
import type net from 'node:net';
import type { Agent } from 'node:http';
import { SocksClient } from 'socks';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { XmppError } from './errors.js';

export interface ProxyAddress {
  host: string;
  port: number;
  /** As given, for messages (without credentials). */
  url: string;
}

/** `socks5h://host:port` (or socks5://, which is treated the same: names always resolved by the proxy). */
export function parseProxy(url: string): ProxyAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new XmppError('proxy', `not a proxy URL: ${url} (expected socks5h://HOST:PORT, e.g. socks5h://127.0.0.1:9050 for Tor)`);
  }
  if (u.protocol !== 'socks5h:' && u.protocol !== 'socks5:') throw new XmppError('proxy', `unsupported proxy ${u.protocol}// (only SOCKS5: socks5h://HOST:PORT)`);
  const port = Number(u.port || 1080);
  if (!u.hostname || !Number.isInteger(port) || port < 1 || port > 65535) throw new XmppError('proxy', `not a proxy URL: ${url}`);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port, url: `socks5h://${u.host}` };
}

/** A TCP connection to host:port through the proxy; the proxy resolves `host`. */
export async function connectThroughProxy(proxy: ProxyAddress, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  try {
    const { socket } = await SocksClient.createConnection({
      proxy: { host: proxy.host, port: proxy.port, type: 5 },
      command: 'connect',
      destination: { host, port },
      timeout: timeoutMs,
    });
    return socket;
  } catch (e) {
    throw new XmppError('proxy', `cannot reach ${host}:${port} through the proxy ${proxy.url}: ${e instanceof Error ? e.message : String(e)} (no direct connection is tried)`);
  }
}

/** An HTTP(S) agent for uploads and downloads through the same proxy (names resolved by it). */
export function proxyAgent(proxy: ProxyAddress): Agent {
  return new SocksProxyAgent(`socks5h://${proxy.host.includes(':') ? `[${proxy.host}]` : proxy.host}:${proxy.port}`);
}
