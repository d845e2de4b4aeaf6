// The manager reaches every version-specific step (bundles, sessions, device keys, payload) only
// through its backend: a backend that records its calls sees each of them, and one that refuses
// to seal stops encryption before any key is made.
import { describe, expect, it } from 'vitest';
import { OmemoManager } from '../../src/omemo/manager.js';
import { MemoryOmemoStore } from '../../src/omemo/memory-store.js';
import { legacyBackend, NS_LEGACY_OMEMO } from '../../src/omemo/legacy-backend.js';
import type { OmemoBackend } from '../../src/omemo/backend.js';

function recording(calls: string[], over: Partial<OmemoBackend> = {}): OmemoBackend {
  const wrap = <K extends keyof OmemoBackend>(k: K): OmemoBackend[K] => {
    const f = legacyBackend[k];
    if (typeof f !== 'function') return f;
    return ((...args: unknown[]) => {
      calls.push(k);
      return (f as (...a: unknown[]) => unknown)(...args);
    }) as OmemoBackend[K];
  };
  return {
    namespace: legacyBackend.namespace,
    ownBundle: wrap('ownBundle'),
    pickBundle: wrap('pickBundle'),
    hasSession: wrap('hasSession'),
    initSession: wrap('initSession'),
    encryptKey: wrap('encryptKey'),
    openKey: wrap('openKey'),
    seal: wrap('seal'),
    open: wrap('open'),
    ...over,
  };
}

async function pair(aliceBackend: OmemoBackend, bobBackend: OmemoBackend) {
  const alice = new OmemoManager(new MemoryOmemoStore(), { ownJid: 'alice@x', trustMode: 'blind', backend: aliceBackend });
  const bob = new OmemoManager(new MemoryOmemoStore(), { ownJid: 'bob@x', trustMode: 'blind', backend: bobBackend });
  const a = await alice.ensureIdentity([]);
  const b = await bob.ensureIdentity([]);
  await alice.processDeviceList('bob@x', [b.deviceId]);
  await bob.processDeviceList('alice@x', [a.deviceId]);
  const bobBundle = await bob.ownBundle();
  return { alice, bob, fetch: async () => bobBundle };
}

describe('OMEMO backends', () => {
  it('legacy OMEMO is the default backend, with its namespace', () => {
    expect(legacyBackend.namespace).toBe(NS_LEGACY_OMEMO);
    expect(NS_LEGACY_OMEMO).toBe('eu.siacs.conversations.axolotl');
  });

  it('encrypt and decrypt go through the backend, step by step', async () => {
    const sent: string[] = [];
    const received: string[] = [];
    const { alice, bob, fetch } = await pair(recording(sent), recording(received));
    received.length = 0;
    const res = await alice.encrypt('hi', ['bob@x'], fetch);
    expect(sent).toEqual(expect.arrayContaining(['hasSession', 'pickBundle', 'initSession', 'seal', 'encryptKey']));
    const out = await bob.decrypt('alice@x', res.element);
    expect(out.plaintext).toBe('hi');
    expect(received).toEqual(['openKey', 'open']);
  });

  it('a backend that cannot seal stops the message before any key is made', async () => {
    const calls: string[] = [];
    const refusing = recording(calls, {
      seal: () => {
        throw new Error('sealing refused');
      },
    });
    const { alice, fetch } = await pair(refusing, legacyBackend);
    await expect(alice.encrypt('hi', ['bob@x'], fetch)).rejects.toThrow('sealing refused');
    expect(calls).not.toContain('encryptKey');
  });
});
