import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, statSync, readdirSync, writeFileSync, readFileSync, utimesSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileOmemoStore, sessionFileStem, omemoDirFor } from '../../src/store/omemo-file-store.js';
import type { DeviceInfo, SignedPreKeyRecord, TrustRecord } from '../../src/omemo/store.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'xchat-store-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const mode = (p: string) => statSync(p).mode & 0o777;

describe('FileOmemoStore', () => {
  it('round-trips identity, prekeys, signed prekeys, sessions, trust and devices across reopen', async () => {
    const dir = path.join(root, 'omemo');
    const s = await FileOmemoStore.open(dir);
    expect(await s.getOwnIdentity()).toBeUndefined();
    expect(await s.getPreKeyCounter()).toBe(0);

    await s.setOwnIdentity({ deviceId: 123456, identityKey: { priv: bytes(32, 1), pub: bytes(32, 2) } });
    await s.putPreKeys([
      { id: 1, keyPair: { priv: bytes(32, 3), pub: bytes(32, 4) } },
      { id: 2, keyPair: { priv: bytes(32, 5), pub: bytes(32, 6) } },
      { id: 3, keyPair: { priv: bytes(32, 7), pub: bytes(32, 8) } },
    ]);
    await s.removePreKey(2);
    await s.setPreKeyCounter(3);
    const spk: SignedPreKeyRecord = { id: 9, keyPair: { priv: bytes(32, 9), pub: bytes(32, 10) }, signature: bytes(64, 11), createdAt: 1700000000000 };
    await s.putSignedPreKey(spk);
    await s.putSignedPreKey({ ...spk, id: 10, createdAt: 1700000000001 });
    await s.removeSignedPreKey(10);
    await s.storeSession({ jid: 'bob@example.org', deviceId: 42 }, bytes(100, 12));
    await s.storeSession({ jid: 'bob@example.org', deviceId: 7 }, bytes(10, 13));
    await s.storeSession({ jid: 'carol@example.org', deviceId: 1 }, bytes(10, 14));
    await s.removeSession({ jid: 'carol@example.org', deviceId: 1 });
    const tr: TrustRecord = { jid: 'bob@example.org', fingerprint: 'ab'.repeat(32), deviceId: 42, state: 'trusted', firstSeen: 5 };
    await s.putTrust(tr);
    await s.putTrust({ ...tr, fingerprint: 'cd'.repeat(32), deviceId: 7, state: 'untrusted' });
    await s.putTrust({ ...tr, jid: 'carol@example.org' });
    const devs: DeviceInfo[] = [
      { deviceId: 42, active: true, lastSeen: 100, identityKey: bytes(32, 15) },
      { deviceId: 7, active: false, lastSeen: 50 },
    ];
    await s.putDevices('bob@example.org', devs);

    const r = await FileOmemoStore.open(dir);
    expect(await r.getOwnIdentity()).toEqual({ deviceId: 123456, identityKey: { priv: bytes(32, 1), pub: bytes(32, 2) } });
    expect((await r.listPreKeys()).map((p) => p.id)).toEqual([1, 3]);
    expect(await r.getPreKey(3)).toEqual({ id: 3, keyPair: { priv: bytes(32, 7), pub: bytes(32, 8) } });
    expect(await r.getPreKey(2)).toBeUndefined();
    expect(await r.getPreKeyCounter()).toBe(3);
    expect(await r.getSignedPreKey(9)).toEqual(spk);
    expect(await r.listSignedPreKeys()).toEqual([spk]);
    expect(await r.loadSession({ jid: 'bob@example.org', deviceId: 42 })).toEqual(bytes(100, 12));
    expect(await r.loadSession({ jid: 'carol@example.org', deviceId: 1 })).toBeUndefined();
    expect(await r.listSessionDevices('bob@example.org')).toEqual([7, 42]);
    expect(await r.listSessionDevices('carol@example.org')).toEqual([]);
    expect(await r.getTrust('bob@example.org', 'ab'.repeat(32))).toEqual(tr);
    expect((await r.listTrust('bob@example.org')).map((t) => t.state).sort()).toEqual(['trusted', 'untrusted']);
    expect(await r.listTrust()).toHaveLength(3);
    expect(await r.getDevices('bob@example.org')).toEqual(devs);
    expect(await r.getDevices('nobody@example.org')).toEqual([]);
  });

  it('returns copies: mutating a loaded session does not change the store', async () => {
    const s = await FileOmemoStore.open(path.join(root, 'o'));
    const addr = { jid: 'a@b', deviceId: 1 };
    const rec = bytes(8, 1);
    await s.storeSession(addr, rec);
    rec.fill(9);
    const loaded = (await s.loadSession(addr))!;
    loaded.fill(7);
    expect(await s.loadSession(addr)).toEqual(bytes(8, 1));
  });

  it('names session files safely for any JID, including very long and odd ones', async () => {
    const s = await FileOmemoStore.open(path.join(root, 'o'));
    const odd = ['../../etc/passwd@x', 'ü/ñ@例え.jp', 'a'.repeat(1000) + '@example.org', '__proto__'];
    for (const [i, jid] of odd.entries()) await s.storeSession({ jid, deviceId: i }, bytes(4, i));
    const names = readdirSync(s.sessionsDir);
    expect(names).toHaveLength(odd.length);
    for (const n of names) {
      expect(n).toMatch(/^[bh][A-Za-z0-9_-]+\.\d+\.log$/);
      expect(n.length).toBeLessThan(255);
    }
    const r = await FileOmemoStore.open(path.join(root, 'o'));
    for (const [i, jid] of odd.entries()) {
      expect(await r.loadSession({ jid, deviceId: i })).toEqual(bytes(4, i));
      expect(await r.listSessionDevices(jid)).toEqual([i]);
    }
    expect(sessionFileStem('a@b')).not.toBe(sessionFileStem('A@b'));
  });

  it('creates files 0600 and directories 0700, even with a permissive umask', async () => {
    const old = process.umask(0);
    try {
      const dir = omemoDirFor(path.join(root, 'profile'), 'me@example.org');
      const s = await FileOmemoStore.open(dir);
      await s.setOwnIdentity({ deviceId: 1, identityKey: { priv: bytes(32, 1), pub: bytes(32, 2) } });
      await s.putPreKeys([{ id: 1, keyPair: { priv: bytes(32, 3), pub: bytes(32, 4) } }]);
      await s.putTrust({ jid: 'x@y', fingerprint: 'f', deviceId: 1, state: 'undecided', firstSeen: 0 });
      await s.storeSession({ jid: 'x@y', deviceId: 1 }, bytes(3, 3));
      expect(mode(dir)).toBe(0o700);
      expect(mode(s.sessionsDir)).toBe(0o700);
      for (const f of ['identity.json', 'prekeys.json', 'trust.json']) expect(mode(path.join(dir, f))).toBe(0o600);
      for (const f of readdirSync(s.sessionsDir)) expect(mode(path.join(s.sessionsDir, f))).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('storeSession with 500 sessions present writes only that one session file', async () => {
    const dir = path.join(root, 'o');
    const s = await FileOmemoStore.open(dir);
    await s.setOwnIdentity({ deviceId: 1, identityKey: { priv: bytes(32, 1), pub: bytes(32, 2) } });
    await s.putTrust({ jid: 'x@y', fingerprint: 'f', deviceId: 1, state: 'trusted', firstSeen: 0 });
    for (let i = 0; i < 500; i++) await s.storeSession({ jid: `user${i % 50}@example.org`, deviceId: i }, bytes(16, i & 0xff));
    const past = new Date('2001-01-01T00:00:00Z');
    const files = [
      ...readdirSync(s.sessionsDir).map((f) => path.join(s.sessionsDir, f)),
      ...['identity.json', 'prekeys.json', 'trust.json'].map((f) => path.join(dir, f)).filter((f) => { try { statSync(f); return true; } catch { return false; } }),
    ];
    expect(files.length).toBeGreaterThanOrEqual(502);
    const before = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
    for (const f of files) utimesSync(f, past, past);

    const target = { jid: 'user3@example.org', deviceId: 253 };
    await s.storeSession(target, bytes(16, 0xee));
    const targetName = `${sessionFileStem(target.jid)}.${target.deviceId}.log`;

    const changed = files.filter((f) => statSync(f).mtimeMs !== past.getTime() || readFileSync(f, 'utf8') !== before.get(f));
    expect(changed.map((f) => path.basename(f))).toEqual([targetName]);
    expect(readdirSync(s.sessionsDir)).toHaveLength(500); // no temp files left behind
  });

  it('a crash mid-write (leftover temp file) never corrupts the previous content', async () => {
    const dir = path.join(root, 'o');
    const s = await FileOmemoStore.open(dir);
    await s.setOwnIdentity({ deviceId: 77, identityKey: { priv: bytes(32, 1), pub: bytes(32, 2) } });
    const addr = { jid: 'bob@example.org', deviceId: 5 };
    await s.storeSession(addr, bytes(20, 1));
    const sessionFile = path.join(s.sessionsDir, `${sessionFileStem(addr.jid)}.5.log`);

    // What a process killed between write and rename leaves: truncated temp files next to the targets.
    writeFileSync(path.join(dir, 'identity.json.tmp-99999-1'), '{"version":1,"identity":{"dev');
    writeFileSync(`${sessionFile}.tmp-99999-2`, '{"jid":"bob@exa');

    const r = await FileOmemoStore.open(dir);
    expect((await r.getOwnIdentity())?.deviceId).toBe(77);
    expect(await r.loadSession(addr)).toEqual(bytes(20, 1));
    expect(await r.listSessionDevices(addr.jid)).toEqual([5]);
    // And the next write still works and wins.
    await r.storeSession(addr, bytes(20, 2));
    const r2 = await FileOmemoStore.open(dir);
    expect(await r2.loadSession(addr)).toEqual(bytes(20, 2));
  });

  it('a failed write leaves memory and disk on the previous content', async () => {
    const dir = path.join(root, 'o');
    const s = await FileOmemoStore.open(dir);
    await s.putTrust({ jid: 'x@y', fingerprint: 'f', deviceId: 1, state: 'trusted', firstSeen: 0 });
    await expect(s.putTrust({ jid: 'x@y', fingerprint: 'f', deviceId: 1, state: 'bogus' as never, firstSeen: 0 })).rejects.toThrow(/trust state/);
    await expect(s.storeSession({ jid: 'x@y', deviceId: -1 }, bytes(1, 1))).rejects.toThrow(/device id/);
    // Make the rename fail (works as root too): the target path becomes a non-empty directory.
    const { renameSync, mkdirSync, writeFileSync: wf, rmSync: rm, readdirSync: ls } = await import('node:fs');
    const trustFile = path.join(dir, 'trust.json');
    renameSync(trustFile, `${trustFile}.saved`);
    mkdirSync(trustFile);
    wf(path.join(trustFile, 'x'), 'x');
    await expect(s.putTrust({ jid: 'x@y', fingerprint: 'f', deviceId: 1, state: 'untrusted', firstSeen: 0 })).rejects.toThrow();
    expect((await s.getTrust('x@y', 'f'))?.state).toBe('trusted');
    expect(ls(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    rm(trustFile, { recursive: true });
    renameSync(`${trustFile}.saved`, trustFile);
    expect((await (await FileOmemoStore.open(dir)).getTrust('x@y', 'f'))?.state).toBe('trusted');
  });

  it('concurrent writes to one document all land', async () => {
    const s = await FileOmemoStore.open(path.join(root, 'o'));
    await Promise.all(Array.from({ length: 30 }, (_, i) => s.putTrust({ jid: 'x@y', fingerprint: `f${i}`, deviceId: i, state: 'trusted', firstSeen: i })));
    const r = await FileOmemoStore.open(path.join(root, 'o'));
    expect(await r.listTrust('x@y')).toHaveLength(30);
  });

  it('refuses a hand-broken document instead of starting over', async () => {
    const dir = path.join(root, 'o');
    await FileOmemoStore.open(dir);
    writeFileSync(path.join(dir, 'identity.json'), '{broken');
    await expect(FileOmemoStore.open(dir)).rejects.toThrow(/identity\.json is not valid JSON/);
  });
  describe('session logs', () => {
    const addr = { jid: 'bob@example.org', deviceId: 5 };
    const logOf = (s: FileOmemoStore) => path.join(s.sessionsDir, `${sessionFileStem(addr.jid)}.5.log`);

    it('appends each store to the same file (no rewrite) and reads back the last record', async () => {
      const dir = path.join(root, 'o');
      const s = await FileOmemoStore.open(dir);
      await s.storeSession(addr, bytes(100, 1));
      const ino = statSync(logOf(s)).ino;
      const size1 = statSync(logOf(s)).size;
      await s.storeSession(addr, bytes(100, 2));
      await s.storeSession(addr, bytes(100, 3));
      expect(statSync(logOf(s)).ino).toBe(ino);
      expect(statSync(logOf(s)).size).toBeGreaterThan(size1);
      expect(mode(logOf(s))).toBe(0o600);
      // Another instance (as after kill -9: nothing was closed) sees the last acknowledged record.
      expect(await (await FileOmemoStore.open(dir)).loadSession(addr)).toEqual(bytes(100, 3));
      await s.close();
    });

    it('ignores a torn or corrupt tail, cuts it off before the next append, and keeps working', async () => {
      const dir = path.join(root, 'o');
      const s = await FileOmemoStore.open(dir);
      await s.storeSession(addr, bytes(300, 1));
      await s.storeSession(addr, bytes(300, 2));
      await s.close();
      const good = readFileSync(logOf(s));
      // What a crash mid-append leaves: the start of a third frame.
      const s2 = await FileOmemoStore.open(path.join(root, 'scratch'));
      await s2.storeSession(addr, bytes(300, 9));
      const frame = readFileSync(logOf(s2)).subarray(8); // after the magic
      const corrupt = Buffer.from(frame);
      corrupt[100] ^= 0xff;
      for (const torn of [frame.subarray(0, 3), frame.subarray(0, 200), Buffer.concat([frame.subarray(0, 250), Buffer.alloc(50)]), corrupt]) {
        writeFileSync(logOf(s), Buffer.concat([good, torn]));
        const r = await FileOmemoStore.open(dir);
        expect(await r.loadSession(addr)).toEqual(bytes(300, 2));
        await r.storeSession(addr, bytes(300, 3));
        const r2 = await FileOmemoStore.open(dir);
        expect(await r2.loadSession(addr)).toEqual(bytes(300, 3));
        expect(readFileSync(logOf(s)).length).toBe(good.length + (good.length - 8) / 2); // torn bytes gone
        await r.close();
      }
      await s2.close();
    });

    it('compacts a long log to its last record', async () => {
      const dir = path.join(root, 'o');
      const s = await FileOmemoStore.open(dir);
      for (let i = 0; i < 300; i++) await s.storeSession(addr, bytes(2000, i & 0xff));
      expect(statSync(logOf(s)).size).toBeLessThan(200 * 1024);
      expect(await (await FileOmemoStore.open(dir)).loadSession(addr)).toEqual(bytes(2000, 299 & 0xff));
      expect(readdirSync(s.sessionsDir)).toEqual([path.basename(logOf(s))]);
      await s.close();
    });

    it('reads old-format .json session files and moves them to a log on the next store', async () => {
      const dir = path.join(root, 'o');
      await FileOmemoStore.open(dir);
      const name = `${sessionFileStem(addr.jid)}.5`;
      const record = Buffer.from(bytes(40, 7)).toString('base64');
      writeFileSync(path.join(dir, 'sessions', `${name}.json`), JSON.stringify({ jid: addr.jid, deviceId: 5, record }), { mode: 0o600 });
      writeFileSync(path.join(dir, 'sessions', `${sessionFileStem('carol@x')}.1.json`), JSON.stringify({ jid: 'other', deviceId: 1, record }));
      const s = await FileOmemoStore.open(dir);
      expect(await s.listSessionDevices(addr.jid)).toEqual([5]);
      expect(await s.loadSession(addr)).toEqual(bytes(40, 7));
      await expect(s.loadSession({ jid: 'carol@x', deviceId: 1 })).rejects.toThrow(/does not belong/);
      await s.storeSession(addr, bytes(40, 8));
      expect(readdirSync(s.sessionsDir).filter((n) => n.startsWith(name))).toEqual([`${name}.log`]);
      const r = await FileOmemoStore.open(dir);
      expect(await r.loadSession(addr)).toEqual(bytes(40, 8));
      await r.removeSession(addr);
      expect(await (await FileOmemoStore.open(dir)).loadSession(addr)).toBeUndefined();
      await s.close();
    });

    it('many sessions written in turn (more than the open-descriptor cap) all stay durable', async () => {
      const dir = path.join(root, 'o');
      const s = await FileOmemoStore.open(dir);
      const addrs = Array.from({ length: 100 }, (_, i) => ({ jid: `u${i}@x`, deviceId: i + 1 }));
      for (let round = 1; round <= 3; round++) for (const a of addrs) await s.storeSession(a, bytes(16, round * 10 + (a.deviceId & 7)));
      const r = await FileOmemoStore.open(dir);
      for (const a of addrs) expect(await r.loadSession(a)).toEqual(bytes(16, 30 + (a.deviceId & 7)));
      await s.removeSession(addrs[0]);
      await s.storeSession(addrs[0], bytes(16, 99));
      expect(await (await FileOmemoStore.open(dir)).loadSession(addrs[0])).toEqual(bytes(16, 99));
      await s.close();
    });
  });
});
