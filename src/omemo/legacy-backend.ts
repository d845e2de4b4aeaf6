// Legacy OMEMO (XEP-0384 0.3, eu.siacs.conversations.axolotl): libsignal's X3DH and Double Ratchet
// with its protobuf wire format, AES-128-GCM payloads with the tag in the key.
import { ownBundle, pickPreKeyBundle, type Bundle } from './device.js';
import { decryptPayload, encryptPayload, keyTransportMaterial } from './payload.js';
import { encryptForDevice, hasSession, initSessionFromBundle, openFromDevice, type PreKeyBundle } from './session-cipher.js';
import type { OmemoBackend, PickedBundle } from './backend.js';

export const NS_LEGACY_OMEMO = 'eu.siacs.conversations.axolotl';

interface LegacyPicked extends PickedBundle {
  readonly preKeyBundle: PreKeyBundle;
}

export const legacyBackend: OmemoBackend = {
  namespace: NS_LEGACY_OMEMO,
  ownBundle: (store) => ownBundle(store),
  pickBundle: (bundle: Bundle): LegacyPicked => ({ bundle, identityKey: bundle.identityKey, preKeyBundle: pickPreKeyBundle(bundle) }),
  hasSession: (store, addr) => hasSession(store, addr),
  initSession: (store, addr, picked) => initSessionFromBundle(store, addr, (picked as LegacyPicked).preKeyBundle),
  encryptKey: (store, addr, keyMaterial) => encryptForDevice(store, addr, keyMaterial),
  async openKey(store, addr, data, prekey) {
    const opened = await openFromDevice(store, addr, data, prekey);
    const r = opened.result;
    return {
      keyMaterial: r.plaintext,
      senderIdentity: r.senderIdentity,
      ...(r.usedPreKeyId !== undefined ? { usedPreKeyId: r.usedPreKeyId } : {}),
      newSession: r.newSession,
      receivedSinceLastSend: r.receivedSinceLastSend,
      commit: () => opened.commit(),
    };
  },
  seal: (plaintext) => (plaintext === null ? keyTransportMaterial() : encryptPayload(plaintext)),
  open: (keyMaterial, iv, payload) => decryptPayload(keyMaterial, iv, payload),
};
