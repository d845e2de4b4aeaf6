// A TCP relay on loopback standing in for the network between xchat and the server: cut() breaks
// every connection at once (as a lost Wi-Fi or a NAT timeout would, no goodbye on either side),
// block() refuses new connections until unblock().
import net from 'node:net';

export interface TcpRelay {
  port: number;
  /** Connections relayed so far. */
  accepted: number;
  cut(): void;
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

export async function startTcpRelay(targetHost: string, targetPort: number): Promise<TcpRelay> {
  const live = new Set<net.Socket>();
  let blocked = false;
  const server = net.createServer((client) => {
    client.on('error', () => undefined); // a cut connection errors on both sides: expected here
    if (blocked) {
      client.resetAndDestroy();
      return;
    }
    relay.accepted++;
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      live.add(s);
      s.on('close', () => live.delete(s));
      s.on('error', () => undefined); // a cut connection errors on both sides: expected here
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const relay: TcpRelay = {
    port: (server.address() as net.AddressInfo).port,
    accepted: 0,
    cut() {
      for (const s of live) s.resetAndDestroy();
    },
    block() {
      blocked = true;
    },
    unblock() {
      blocked = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        relay.cut();
        server.close(() => resolve());
      }),
  };
  return relay;
}
