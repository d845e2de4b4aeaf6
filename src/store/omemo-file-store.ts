// OmemoStore on disk. Three lowdb documents split by size and write rate:
//   identity.json  own identity, prekey counter, signed prekeys (small, rare writes)
//   prekeys.json   one-time prekeys (largest, written when a prekey is used or refilled)
//   trust.json     trust decisions and device lists (small, written on device-list changes)
// and one append-only log per session under sessions/ (session-log.ts), so persisting a ratchet
// step is one durable append to that session's log, whatever the number of sessions. Every write
// resolves once durable. Session files of the older format (`.json`, one JSON document rewritten
// atomically) are still read; the first store of such a session moves it to a log.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type {
  DeviceAddress,
  DeviceInfo,
  OmemoStore,
  OwnIdentity,
  PreKeyRecord,
  SignedPreKeyRecord,
  TrustRecord,
} from '../omemo/store.js';
import { sha256 } from '../omemo/primitives.js';
import { toHex } from '../omemo/keys.js';
import { JsonDoc } from './json-doc.js';
import { ensureDir, fsyncDir, isTempFile, readFileIfExists } from './profile.js';
import { SessionLog, readLog } from './session-log.js';
import { logged } from '../lib/diagnostics.js';

import {
  b64,
  checkBytes,
  checkDeviceId,
  copy,
  TRUST_STATES,
  unb64,
  type DeviceJson,
  type IdentityDoc,
  type PreKeyDoc,
  type SessionJson,
  type TrustDoc,
} from './omemo-file-format.js';

/**
 * File-name-safe and unambiguous for any JID: 'b' + base64url of the UTF-8 JID; very long JIDs
 * (file names are limited to 255 bytes) use 'h' + SHA-256 hex instead. The JID is also stored
 * inside the file.
 */
export function sessionFileStem(jid: string): string {
  const enc = Buffer.from(jid, 'utf8').toString('base64url');
  return enc.length <= 200 ? `b${enc}` : `h${toHex(sha256(new TextEncoder().encode(jid)))}`;
}

const SESSION_NAME_RE = /^([bh][A-Za-z0-9_-]+)\.(\d+)\.(log|json)$/;
/** Session logs kept open at once; the rest reopen on their next write (one open() call). */
const MAX_OPEN_LOGS = 64;

export class FileOmemoStore implements OmemoStore {
  /** stem → device ids with a session file */
  private readonly sessionIndex = new Map<string, Set<number>>();
  /** `stem.id` → record, filled on load/store */
  private readonly sessionCache = new Map<string, Uint8Array>();
  /** `stem.id` of sessions that still have an old-format `.json` file */
  private readonly legacyJson = new Set<string>();
  /** `stem.id` → appender of its log (known end offset, open descriptor) */
  private readonly logs = new Map<string, SessionLog>();
  /** Logs with an open descriptor, least recently written first. */
  private readonly openLogs = new Set<SessionLog>();

  private constructor(
    readonly dir: string,
    private readonly identityDoc: JsonDoc<IdentityDoc>,
    private readonly preKeyDoc: JsonDoc<PreKeyDoc>,
    private readonly trustDoc: JsonDoc<TrustDoc>,
  ) {}

  get sessionsDir(): string {
    return path.join(this.dir, 'sessions');
  }

  static async open(dir: string): Promise<FileOmemoStore> {
    await ensureDir(dir);
    await ensureDir(path.join(dir, 'sessions'));
    const [identityDoc, preKeyDoc, trustDoc] = await Promise.all([
      JsonDoc.open<IdentityDoc>(path.join(dir, 'identity.json'), { version: 1, preKeyCounter: 0, signedPreKeys: [] }),
      JsonDoc.open<PreKeyDoc>(path.join(dir, 'prekeys.json'), { version: 1, preKeys: {} }),
      JsonDoc.open<TrustDoc>(path.join(dir, 'trust.json'), { version: 1, trust: {}, devices: {} }),
    ]);
    const store = new FileOmemoStore(dir, identityDoc, preKeyDoc, trustDoc);
    for (const name of await fsp.readdir(store.sessionsDir)) {
      if (isTempFile(name)) continue; // leftover of a crash mid-write: the real file is intact
      const m = SESSION_NAME_RE.exec(name);
      if (!m) continue;
      store.indexAdd(m[1], Number(m[2]));
      if (m[3] === 'json') store.legacyJson.add(`${m[1]}.${m[2]}`);
    }
    return store;
  }

  private indexAdd(stem: string, id: number): void {
    let set = this.sessionIndex.get(stem);
    if (!set) this.sessionIndex.set(stem, (set = new Set()));
    set.add(id);
  }

  private sessionFile(addr: DeviceAddress): { stem: string; name: string; file: string; jsonFile: string } {
    checkDeviceId(addr.deviceId);
    const stem = sessionFileStem(addr.jid);
    const name = `${stem}.${addr.deviceId}`;
    return { stem, name, file: path.join(this.sessionsDir, `${name}.log`), jsonFile: path.join(this.sessionsDir, `${name}.json`) };
  }

  // ---- identity ----------------------------------------------------------------------------

  async getOwnIdentity(): Promise<OwnIdentity | undefined> {
    const i = this.identityDoc.data.identity;
    if (!i) return undefined;
    return { deviceId: i.deviceId, identityKey: { priv: unb64(i.priv), pub: unb64(i.pub) } };
  }

  async setOwnIdentity(identity: OwnIdentity): Promise<void> {
    checkDeviceId(identity.deviceId);
    checkBytes(identity.identityKey.priv, 'identity private key');
    checkBytes(identity.identityKey.pub, 'identity public key');
    await this.identityDoc.update((d) => {
      d.identity = { deviceId: identity.deviceId, priv: b64(identity.identityKey.priv), pub: b64(identity.identityKey.pub) };
    });
  }

  // ---- prekeys -----------------------------------------------------------------------------

  async getPreKey(id: number): Promise<PreKeyRecord | undefined> {
    const k = this.preKeyDoc.data.preKeys[String(id)];
    return k ? { id, keyPair: { priv: unb64(k.priv), pub: unb64(k.pub) } } : undefined;
  }

  async listPreKeys(): Promise<PreKeyRecord[]> {
    return Object.entries(this.preKeyDoc.data.preKeys)
      .map(([id, k]) => ({ id: Number(id), keyPair: { priv: unb64(k.priv), pub: unb64(k.pub) } }))
      .sort((a, b) => a.id - b.id);
  }

  async putPreKeys(records: PreKeyRecord[]): Promise<void> {
    for (const r of records) {
      checkDeviceId(r.id);
      checkBytes(r.keyPair.priv, 'prekey private key');
      checkBytes(r.keyPair.pub, 'prekey public key');
    }
    await this.preKeyDoc.update((d) => {
      for (const r of records) d.preKeys[String(r.id)] = { priv: b64(r.keyPair.priv), pub: b64(r.keyPair.pub) };
    });
  }

  async removePreKey(id: number): Promise<void> {
    if (!(String(id) in this.preKeyDoc.data.preKeys)) return;
    await this.preKeyDoc.update((d) => {
      delete d.preKeys[String(id)];
    });
  }

  async getPreKeyCounter(): Promise<number> {
    return this.identityDoc.data.preKeyCounter;
  }

  async setPreKeyCounter(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 0) throw new Error(`invalid prekey counter ${n}`);
    await this.identityDoc.update((d) => {
      d.preKeyCounter = n;
    });
  }

  // ---- signed prekeys ----------------------------------------------------------------------

  private static spkFromJson(s: IdentityDoc['signedPreKeys'][number]): SignedPreKeyRecord {
    return {
      id: s.id,
      keyPair: { priv: unb64(s.priv), pub: unb64(s.pub) },
      signature: unb64(s.signature),
      createdAt: s.createdAt,
    };
  }

  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined> {
    const s = this.identityDoc.data.signedPreKeys.find((x) => x.id === id);
    return s ? FileOmemoStore.spkFromJson(s) : undefined;
  }

  async listSignedPreKeys(): Promise<SignedPreKeyRecord[]> {
    return this.identityDoc.data.signedPreKeys.map((j) => FileOmemoStore.spkFromJson(j)).sort((a, b) => a.id - b.id);
  }

  async putSignedPreKey(r: SignedPreKeyRecord): Promise<void> {
    checkDeviceId(r.id);
    checkBytes(r.keyPair.priv, 'signed prekey private key');
    checkBytes(r.keyPair.pub, 'signed prekey public key');
    checkBytes(r.signature, 'signed prekey signature');
    await this.identityDoc.update((d) => {
      const json = { id: r.id, priv: b64(r.keyPair.priv), pub: b64(r.keyPair.pub), signature: b64(r.signature), createdAt: r.createdAt };
      const i = d.signedPreKeys.findIndex((x) => x.id === r.id);
      if (i === -1) d.signedPreKeys.push(json);
      else d.signedPreKeys[i] = json;
    });
  }

  async removeSignedPreKey(id: number): Promise<void> {
    if (!this.identityDoc.data.signedPreKeys.some((x) => x.id === id)) return;
    await this.identityDoc.update((d) => {
      d.signedPreKeys = d.signedPreKeys.filter((x) => x.id !== id);
    });
  }

  // ---- sessions ----------------------------------------------------------------------------

  async loadSession(addr: DeviceAddress): Promise<Uint8Array | undefined> {
    const { stem, name, file, jsonFile } = this.sessionFile(addr);
    const cached = this.sessionCache.get(name);
    if (cached) return copy(cached);
    if (!this.sessionIndex.get(stem)?.has(addr.deviceId)) return undefined;
    const log = await readLog(file);
    let record: Uint8Array | undefined;
    if (log) {
      if (!this.logs.has(name)) this.logs.set(name, new SessionLog(file, log.validEnd, log.tornTail));
      if (log.record) {
        if (log.owner?.jid !== addr.jid || log.owner.deviceId !== addr.deviceId) {
          throw new Error(`session file ${file} does not belong to ${addr.jid}:${addr.deviceId}`);
        }
        record = log.record;
      }
    }
    if (!record && this.legacyJson.has(name)) record = await this.readLegacy(addr, jsonFile);
    if (!record) return undefined;
    this.sessionCache.set(name, record);
    return copy(record);
  }

  private async readLegacy(addr: DeviceAddress, file: string): Promise<Uint8Array | undefined> {
    const buf = await readFileIfExists(file);
    if (!buf) return undefined;
    let json: SessionJson;
    try {
      json = JSON.parse(buf.toString('utf8')) as SessionJson;
    } catch {
      throw new Error(`session file ${file} is not valid JSON`);
    }
    if (json.jid !== addr.jid || json.deviceId !== addr.deviceId || typeof json.record !== 'string') {
      throw new Error(`session file ${file} does not belong to ${addr.jid}:${addr.deviceId}`);
    }
    return unb64(json.record);
  }

  async storeSession(addr: DeviceAddress, record: Uint8Array): Promise<void> {
    checkBytes(record, 'session record');
    const { stem, name, file, jsonFile } = this.sessionFile(addr);
    const snapshot = copy(record);
    let log = this.logs.get(name);
    // A log this process has not read yet starts with a whole-file rewrite (offset 0).
    if (!log) this.logs.set(name, (log = new SessionLog(file, 0, false)));
    this.touchOpen(log);
    await log.append({ jid: addr.jid, deviceId: addr.deviceId }, snapshot);
    this.sessionCache.set(name, snapshot);
    this.indexAdd(stem, addr.deviceId);
    if (this.legacyJson.delete(name)) {
      // The log is durable and read first; the old file only has to go eventually.
      await fsp.unlink(jsonFile).catch(logged(`store: remove migrated ${jsonFile}`));
    }
  }

  /** Keeps at most MAX_OPEN_LOGS descriptors open, closing the least recently written. */
  private touchOpen(log: SessionLog): void {
    this.openLogs.delete(log);
    this.openLogs.add(log);
    if (this.openLogs.size <= MAX_OPEN_LOGS) return;
    const oldest = this.openLogs.values().next().value as SessionLog;
    this.openLogs.delete(oldest);
    void oldest.release();
  }

  async removeSession(addr: DeviceAddress): Promise<void> {
    const { stem, name, file, jsonFile } = this.sessionFile(addr);
    const log = this.logs.get(name);
    if (log) {
      await log.release();
      this.openLogs.delete(log);
      this.logs.delete(name);
    }
    for (const f of [file, jsonFile]) {
      try {
        await fsp.unlink(f);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    await fsyncDir(this.sessionsDir);
    this.sessionCache.delete(name);
    this.legacyJson.delete(name);
    this.sessionIndex.get(stem)?.delete(addr.deviceId);
  }

  /** Closes open session log descriptors (after pending writes). The store stays usable. */
  async close(): Promise<void> {
    await Promise.all([...this.logs.values()].map((l) => l.release()));
    this.openLogs.clear();
  }

  async listSessionDevices(jid: string): Promise<number[]> {
    return [...(this.sessionIndex.get(sessionFileStem(jid)) ?? [])].sort((a, b) => a - b);
  }

  // ---- trust -------------------------------------------------------------------------------

  async getTrust(jid: string, fingerprint: string): Promise<TrustRecord | undefined> {
    const r = this.trustDoc.data.trust[`${jid}\n${fingerprint}`];
    return r ? { ...r } : undefined;
  }

  async listTrust(jid?: string): Promise<TrustRecord[]> {
    return Object.values(this.trustDoc.data.trust)
      .filter((r) => jid === undefined || r.jid === jid)
      .map((r) => ({ ...r }));
  }

  async putTrust(record: TrustRecord): Promise<void> {
    if (!TRUST_STATES.includes(record.state)) throw new Error(`invalid trust state ${String(record.state)}`);
    if (typeof record.jid !== 'string' || typeof record.fingerprint !== 'string') throw new Error('invalid trust record');
    checkDeviceId(record.deviceId);
    const r: TrustRecord = {
      jid: record.jid,
      fingerprint: record.fingerprint,
      deviceId: record.deviceId,
      state: record.state,
      firstSeen: record.firstSeen,
    };
    await this.trustDoc.update((d) => {
      d.trust[`${r.jid}\n${r.fingerprint}`] = r;
    });
  }

  // ---- device lists ------------------------------------------------------------------------

  async getDevices(jid: string): Promise<DeviceInfo[]> {
    const list = this.trustDoc.data.devices[jid];
    if (!Object.prototype.hasOwnProperty.call(this.trustDoc.data.devices, jid) || !list) return [];
    return list.map((d) => ({
      deviceId: d.deviceId,
      active: d.active,
      lastSeen: d.lastSeen,
      ...(d.identityKey !== undefined ? { identityKey: unb64(d.identityKey) } : {}),
    }));
  }

  async putDevices(jid: string, devices: DeviceInfo[]): Promise<void> {
    const json: DeviceJson[] = devices.map((d) => {
      checkDeviceId(d.deviceId);
      if (d.identityKey !== undefined) checkBytes(d.identityKey, 'device identity key');
      return {
        deviceId: d.deviceId,
        active: !!d.active,
        lastSeen: d.lastSeen,
        ...(d.identityKey !== undefined ? { identityKey: b64(d.identityKey) } : {}),
      };
    });
    await this.trustDoc.update((d) => {
      // defineProperty: a JID such as "__proto__" must stay a plain key.
      Object.defineProperty(d.devices, jid, { value: json, enumerable: true, writable: true, configurable: true });
    });
  }
}

/** Where an account's OMEMO store lives inside a profile (one identity per account). */
export function omemoDirFor(profileDir: string, accountJid: string): string {
  return path.join(profileDir, 'omemo', sessionFileStem(accountJid.toLowerCase()));
}
