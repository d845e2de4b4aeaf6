// A SOCKS5 proxy for tests that records what it was asked for: the destination as the client
// named it (a host name means the client left the resolving to the proxy). Names are mapped to
// loopback ports by the test, so an unresolvable name (a .onion) works only through the proxy.
import net from 'node:net';

export interface SocksRecord {
  /** 'domain' when the client sent a name, 'ipv4'/'ipv6' when it had resolved it itself. */
  kind: 'domain' | 'ipv4' | 'ipv6';
  host: string;
  port: number;
}

export interface SocksRecorder {
  port: number;
  requests: SocksRecord[];
  close(): Promise<void>;
}

export async function startSocksRecorder(route: (host: string, port: number) => { host: string; port: number }): Promise<SocksRecorder> {
  const requests: SocksRecord[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let buf = Buffer.alloc(0);
    let stage: 'greeting' | 'request' | 'piping' = 'greeting';
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 'greeting' && buf.length >= 2 && buf.length >= 2 + buf[1]) {
        buf = buf.subarray(2 + buf[1]);
        client.write(Buffer.from([5, 0])); // no authentication
        stage = 'request';
      }
      if (stage !== 'request' || buf.length < 5) return;
      const atyp = buf[3];
      let host: string;
      let kind: SocksRecord['kind'];
      let end: number;
      if (atyp === 3) {
        end = 5 + buf[4];
        if (buf.length < end + 2) return;
        host = buf.subarray(5, end).toString();
        kind = 'domain';
      } else if (atyp === 1) {
        end = 8;
        if (buf.length < end + 2) return;
        host = [...buf.subarray(4, 8)].join('.');
        kind = 'ipv4';
      } else {
        end = 20;
        if (buf.length < end + 2) return;
        host = buf.subarray(4, 20).toString('hex');
        kind = 'ipv6';
      }
      const port = buf.readUInt16BE(end);
      requests.push({ kind, host, port });
      stage = 'piping';
      client.off('data', onData);
      const target = route(host, port);
      const upstream = net.connect(target.port, target.host, () => {
        client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
        const rest = buf.subarray(end + 2);
        if (rest.length) upstream.write(rest);
        client.pipe(upstream).pipe(client);
      });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => {
        client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])); // connection refused
      });
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
