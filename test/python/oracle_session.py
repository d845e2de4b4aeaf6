#!/usr/bin/python3
"""Legacy OMEMO session oracle built on Debian's python3-oldmemo / x3dh / doubleratchet.

Stateless: the request carries the serialized python state, the reply returns the new one, so the
TypeScript test can interleave steps with its own session cipher. Request (JSON on stdin):
  {"state": <state or null>, "ops": [op, ...]}
ops:
  {"op": "create", "pre_keys": n}                     -> {"bundle": {...}}            (hex fields)
  {"op": "initiate", "bundle": {...}}                 -> {}   X3DH active on our bundle
  {"op": "encrypt", "plaintext": hex}                 -> {"prekey": bool, "data": hex}
  {"op": "decrypt", "data": hex, "prekey": bool}      -> {"plaintext": hex}
Reply: {"state": <state>, "results": [...]}
The Ed25519-seed identity and sign-bit folding follow python-omemo / oldmemo.etree exactly.
"""
import asyncio
import json
import sys

import x3dh
import x3dh.identity_key_pair
import xeddsa
from doubleratchet.recommended import diffie_hellman_ratchet_curve25519
from oldmemo.oldmemo import (
    AEADImpl,
    DoubleRatchetImpl,
    EncryptedKeyMaterialImpl,
    KeyExchangeImpl,
    MessageChainKDFImpl,
    RootChainKDFImpl,
    StateImpl,
)

FMT = x3dh.IdentityKeyFormat.ED_25519
HASH = x3dh.HashFunction.SHA_256
MAX_SKIP = 1000
DR_ARGS = (
    diffie_hellman_ratchet_curve25519.DiffieHellmanRatchet,
    RootChainKDFImpl,
    MessageChainKDFImpl,
    DoubleRatchetImpl.MESSAGE_CHAIN_CONSTANT,
    MAX_SKIP,
    MAX_SKIP,
    AEADImpl,
)
H = bytes.hex
B = bytes.fromhex


def load(st):
    x, _ = StateImpl.from_json(st["x3dh"], FMT, HASH, StateImpl.INFO)
    dr = DoubleRatchetImpl.from_json(st["dr"], *DR_ARGS) if st.get("dr") else None
    return x, dr


def ad_for(st, sending):
    # oldmemo keeps initiator-first AD and swaps it so that it is always sender ‖ receiver.
    ad = B(st["ad"])
    swapped = ad[33:66] + ad[:33]
    active = st["role"] == "active"
    return ad if active == sending else swapped


async def run(req):
    st = req.get("state") or {}
    results = []
    for op in req["ops"]:
        kind = op["op"]
        if kind == "create":
            x = StateImpl.create(FMT, HASH, StateImpl.INFO)  # random Ed25519 seed, as python-omemo
            x.generate_pre_keys(op.get("pre_keys", 3))
            b = x.bundle
            pre_keys = sorted(b.pre_keys)
            st = {
                "x3dh": x.json,
                "spk_id": 7,
                "pre_keys": {H(pk): i + 1 for i, pk in enumerate(pre_keys)},
                "dr": None,
            }
            sig = bytearray(b.signed_pre_key_sig)
            sig[63] |= b.identity_key[31] & 0x80  # oldmemo.etree.serialize_bundle
            results.append({"bundle": {
                "identityKey": H(xeddsa.ed25519_pub_to_curve25519_pub(b.identity_key)),
                "signedPreKeyId": 7,
                "signedPreKey": H(b.signed_pre_key),
                "signedPreKeySignature": H(bytes(sig)),
                "preKeys": [{"id": i + 1, "pub": H(pk)} for i, pk in enumerate(pre_keys)],
            }})
        elif kind == "initiate":
            x, _ = load(st)
            ob = op["bundle"]
            sig = bytearray(B(ob["signedPreKeySignature"]))
            sign_bit = bool(sig[63] >> 7)  # oldmemo.etree.parse_bundle
            sig[63] &= 0x7F
            bundle = x3dh.Bundle(
                identity_key=xeddsa.curve25519_pub_to_ed25519_pub(B(ob["identityKey"]), sign_bit),
                signed_pre_key=B(ob["signedPreKey"]),
                signed_pre_key_sig=bytes(sig),
                pre_keys=frozenset([B(ob["preKey"])]),
            )
            sk, ad, header = await x.get_shared_secret_active(bundle)
            st.update(role="active", ad=H(ad), sk=H(sk), confirmed=False, peer_spk=ob["signedPreKey"], header={
                "identity_key": H(header.identity_key),
                "ephemeral_key": H(header.ephemeral_key),
                "signed_pre_key": H(header.signed_pre_key),
                "pre_key": H(header.pre_key),
                "spk_id": ob["signedPreKeyId"],
                "pk_id": ob["preKeyId"],
            })
            results.append({})
        elif kind == "encrypt":
            x, dr = load(st)
            pt = B(op["plaintext"])
            if dr is None:
                dr, msg = await DoubleRatchetImpl.encrypt_initial_message(
                    *DR_ARGS, B(st["sk"]), B(st["peer_spk"]), pt, ad_for(st, True))
            else:
                msg = await dr.encrypt_message(pt, ad_for(st, True))
            data = msg.ciphertext
            prekey = st["role"] == "active" and not st["confirmed"]
            if prekey:
                h = st["header"]
                header = x3dh.Header(B(h["identity_key"]), B(h["ephemeral_key"]), B(h["signed_pre_key"]), B(h["pre_key"]))
                data, _ = KeyExchangeImpl(header, h["spk_id"], h["pk_id"]).serialize(data)
            st["dr"] = dr.json
            results.append({"prekey": prekey, "data": H(data)})
        elif kind == "decrypt":
            x, dr = load(st)
            data = B(op["data"])
            if op["prekey"]:
                kex, data = KeyExchangeImpl.parse(data, False)
            enc = EncryptedKeyMaterialImpl.parse(data, "peer@x", 1).encrypted_message
            if dr is None:
                # Passive session building (oldmemo Oldmemo.build_session_passive).
                assert op["prekey"], "no session"
                spks = {x.bundle.signed_pre_key: st["spk_id"]}
                by_id = {v: B(k) for k, v in st["pre_keys"].items()}
                header = x3dh.Header(kex.header.identity_key, kex.header.ephemeral_key,
                                     {v: k for k, v in spks.items()}[kex.signed_pre_key_id], by_id[kex.pre_key_id])
                sk, ad, spk = await x.get_shared_secret_passive(header)
                st.update(role="passive", ad=H(ad), confirmed=True)
                dr, pt = await DoubleRatchetImpl.decrypt_initial_message(*DR_ARGS, sk, spk.priv, enc, ad_for(st, False))
                st["x3dh"] = x.json
            else:
                pt = await dr.decrypt_message(enc, ad_for(st, False))
            st["confirmed"] = True
            st["dr"] = dr.json
            results.append({"plaintext": H(pt)})
        else:
            raise ValueError(kind)
    return {"state": st, "results": results}


print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))
