import { describe, it, expect } from 'vitest';
import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { startProsody } from './prosody.js';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}

describe('lab prosody', () => {
  it('starts, registers a user, speaks XMPP on c2s and stops', async () => {
    const lab = await startProsody({ name: 'selftest' });
    try {
      expect(lab.domain).toBe('localhost');
      expect(readFileSync(lab.caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
      expect(await portOpen(lab.c2sPort)).toBe(true);
      expect(await lab.register('alice', 'secret')).toBe('alice@localhost');
      expect(existsSync(`${lab.dir}/data/localhost/accounts/alice.dat`)).toBe(true);
      // The c2s port answers a stream header with stream features offering STARTTLS.
      const features = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: lab.c2sPort });
        let buf = '';
        s.on('data', (b) => {
          buf += b;
          if (buf.includes('</stream:features>')) { s.destroy(); resolve(buf); }
        });
        s.on('error', reject);
        s.write(`<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`);
      });
      expect(features).toContain('urn:ietf:params:xml:ns:xmpp-tls');
    } finally {
      await lab.stop();
    }
    expect(await portOpen(lab.c2sPort)).toBe(false);
    expect(existsSync(lab.dir)).toBe(false);
  });

  it('keeps accounts in SQLite with storage: sql (LuaDBI), not in its data files', async () => {
    const lab = await startProsody({ name: 'selftest-sql', storage: 'sql' });
    try {
      expect(await lab.register('alice', 'secret')).toBe('alice@localhost');
      expect(existsSync(`${lab.dir}/data/prosody.sqlite`)).toBe(true);
      expect(existsSync(`${lab.dir}/data/localhost/accounts/alice.dat`)).toBe(false);
      expect(readFileSync(`${lab.dir}/data/prosody.sqlite`).includes('alice')).toBe(true);
      expect(await portOpen(lab.c2sPort)).toBe(true);
    } finally {
      await lab.stop();
    }
  });
});
