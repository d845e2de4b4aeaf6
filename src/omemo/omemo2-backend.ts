// OMEMO 2 (XEP-0384 0.8+, urn:xmpp:omemo:2) as python-twomemo speaks it: Ed25519 identity keys in
// bundles and key exchanges (our one identity in its Ed25519 form, see omemo2/identity.ts), X3DH
// and the Double Ratchet with OMEMO 2's info strings and protobufs, AES-256-CBC + HMAC payloads
// around an SCE envelope, 32 zero bytes for an empty message.
import type { Bundle } from './device.js';
import { decodeUtf8, encodeUtf8 } from './payload.js';
import { ownBundle2, pickBundle2 } from './omemo2/bundle.js';
import { decryptPayload2, emptyKeyMaterial, encryptPayload2 } from './omemo2/payload.js';
import { buildEnvelope, checkEnvelope, parseEnvelope } from './omemo2/sce.js';
import { encryptKey, hasSession, initSession, openKey, type PickedPreKeyBundle } from './omemo2/session.js';
import type { OmemoBackend, OpenedContent, PickedBundle } from './backend.js';

export const NS_OMEMO2 = 'urn:xmpp:omemo:2';

interface Omemo2Picked extends PickedBundle {
  readonly preKeyBundle: PickedPreKeyBundle;
}

const NO_IV = new Uint8Array(0);

export const omemo2Backend: OmemoBackend = {
  namespace: NS_OMEMO2,
  ownBundle: (store) => ownBundle2(store),
  pickBundle(bundle: Bundle): Omemo2Picked {
    const preKeyBundle = pickBundle2(bundle);
    return { bundle, identityKey: preKeyBundle.identityCurve, preKeyBundle };
  },
  hasSession: (store, addr) => hasSession(store, addr),
  initSession: (store, addr, picked) => initSession(store, addr, (picked as Omemo2Picked).preKeyBundle),
  encryptKey: (store, addr, keyMaterial) => encryptKey(store, addr, keyMaterial),
  async openKey(store, addr, data, kex) {
    const opened = await openKey(store, addr, data, kex);
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
  seal(plaintext) {
    if (plaintext === null) return { iv: NO_IV, keyMaterial: emptyKeyMaterial() };
    return { iv: NO_IV, ...encryptPayload2(plaintext) };
  },
  open: (keyMaterial, _iv, payload) => decryptPayload2(keyMaterial, payload),
  encodeContent: (body, ctx) => encodeUtf8(buildEnvelope({ body, from: ctx.from, ...(ctx.to !== undefined ? { to: ctx.to } : {}) })),
  decodeContent(plaintext, ctx): OpenedContent {
    const env = parseEnvelope(decodeUtf8(plaintext));
    checkEnvelope(env, ctx);
    return { body: env.body, elements: env.elements, ...(env.time !== undefined ? { time: env.time } : {}) };
  },
};
