#!/usr/bin/python3
"""OMEMO 2 oracle built on Debian's python3-twomemo / x3dh / doubleratchet / xeddsa.

Stateless: the request carries the serialized python state, the reply returns the new one, so the
TypeScript test can interleave steps with its own implementation. JSON on stdin:
  {"state": <state or null>, "ops": [op, ...]}   ->   {"state": <state>, "results": [...]}
Byte fields are hex.

Session ops (twomemo's StateImpl, DoubleRatchetImpl, AEADImpl, KeyExchangeImpl):
  {"op": "create", "pre_keys": n}               -> {"bundle": {...}}   random Ed25519 seed identity,
                                                   as python-omemo creates one
  {"op": "initiate", "bundle": {...}}           -> {}   X3DH active on our bundle
  {"op": "encrypt", "plaintext": hex}           -> {"kex": bool, "data": hex}
  {"op": "decrypt", "data": hex, "kex": bool}   -> {"plaintext": hex}
  {"op": "x3dh_active", "bundle": {...}}        -> {"sk", "ad", "ek"}  (no state change)
  {"op": "x3dh_passive", "ik", "ek", "spk_id", "pk_id"} -> {"sk", "ad"}
Crypto ops (no state):
  {"op": "ed_to_curve", "keys": [hex]}          -> [hex | null]
  {"op": "verify", "cases": [{"pub", "msg", "sig"}]} -> [bool]
  {"op": "sign", "msgs": [hex]}                 -> [{"ed", "curve", "msg", "sig"}]  fresh seeds
  {"op": "seal", "plaintext": hex}              -> {"payload", "key", "tag"}  Twomemo.encrypt_plaintext
  {"op": "open", "payload", "key", "tag"}       -> {"plaintext": hex | null}  Twomemo.decrypt_plaintext
"""
import asyncio
import json
import secrets
import sys

import x3dh
import xeddsa
from doubleratchet.recommended import diffie_hellman_ratchet_curve25519
from twomemo.twomemo import (
    AEADImpl,
    ContentImpl,
    DoubleRatchetImpl,
    EncryptedKeyMaterialImpl,
    KeyExchangeImpl,
    MessageChainKDFImpl,
    PlainKeyMaterialImpl,
    RootChainKDFImpl,
    StateImpl,
    Twomemo,
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


def to_bundle(ob):
    return x3dh.Bundle(
        identity_key=B(ob["identityKey"]),
        signed_pre_key=B(ob["signedPreKey"]),
        signed_pre_key_sig=B(ob["signedPreKeySignature"]),
        pre_keys=frozenset([B(ob["preKey"])]),
    )


def passive_header(st, x, ik, ek, spk_id, pk_id):
    # twomemo's build_session_passive: the key exchange names ids, the state holds the keys.
    if spk_id != st["spk_id"]:
        raise ValueError("unknown signed pre key id")
    by_id = {v: B(k) for k, v in st["pre_keys"].items()}
    return x3dh.Header(ik, ek, x.bundle.signed_pre_key, by_id[pk_id])


async def session_op(st, op):
    kind = op["op"]
    if kind == "create":
        x = StateImpl.create(FMT, HASH, StateImpl.INFO)
        x.generate_pre_keys(op.get("pre_keys", 3))
        b = x.bundle
        pre_keys = sorted(b.pre_keys)
        st.clear()
        st.update(x3dh=x.json, spk_id=7, pre_keys={H(pk): i + 1 for i, pk in enumerate(pre_keys)}, dr=None)
        return {"bundle": {
            "identityKey": H(b.identity_key),
            "signedPreKeyId": 7,
            "signedPreKey": H(b.signed_pre_key),
            "signedPreKeySignature": H(b.signed_pre_key_sig),
            "preKeys": [{"id": i + 1, "pub": H(pk)} for i, pk in enumerate(pre_keys)],
        }}
    if kind == "x3dh_active":
        x, _ = load(st)
        sk, ad, header = await x.get_shared_secret_active(to_bundle(op["bundle"]))
        return {"sk": H(sk), "ad": H(ad), "ek": H(header.ephemeral_key)}
    if kind == "x3dh_passive":
        x, _ = load(st)
        header = passive_header(st, x, B(op["ik"]), B(op["ek"]), op["spk_id"], op["pk_id"])
        sk, ad, _ = await x.get_shared_secret_passive(header)
        return {"sk": H(sk), "ad": H(ad)}
    if kind == "initiate":
        x, _ = load(st)
        ob = op["bundle"]
        sk, ad, header = await x.get_shared_secret_active(to_bundle(ob))
        st.update(role="active", ad=H(ad), sk=H(sk), confirmed=False, peer_spk=ob["signedPreKey"], header={
            "identity_key": H(header.identity_key),
            "ephemeral_key": H(header.ephemeral_key),
            "signed_pre_key": H(header.signed_pre_key),
            "pre_key": H(header.pre_key),
            "spk_id": ob["signedPreKeyId"],
            "pk_id": ob["preKeyId"],
        })
        return {}
    if kind == "encrypt":
        _, dr = load(st)
        pt = B(op["plaintext"])
        if dr is None:
            dr, msg = await DoubleRatchetImpl.encrypt_initial_message(*DR_ARGS, B(st["sk"]), B(st["peer_spk"]), pt, B(st["ad"]))
        else:
            msg = await dr.encrypt_message(pt, B(st["ad"]))
        data = msg.ciphertext
        kex = st["role"] == "active" and not st["confirmed"]
        if kex:
            h = st["header"]
            header = x3dh.Header(B(h["identity_key"]), B(h["ephemeral_key"]), B(h["signed_pre_key"]), B(h["pre_key"]))
            data = KeyExchangeImpl(header, h["spk_id"], h["pk_id"]).serialize(data)
        st["dr"] = dr.json
        return {"kex": kex, "data": H(data)}
    if kind == "decrypt":
        x, dr = load(st)
        data = B(op["data"])
        if op["kex"]:
            kex, data = KeyExchangeImpl.parse(data)
        enc = EncryptedKeyMaterialImpl.parse(data, "peer@x", 1).encrypted_message
        if dr is None:
            assert op["kex"], "no session"
            header = passive_header(st, x, kex.header.identity_key, kex.header.ephemeral_key, kex.signed_pre_key_id, kex.pre_key_id)
            sk, ad, spk = await x.get_shared_secret_passive(header)
            st.update(role="passive", ad=H(ad), confirmed=True)
            dr, pt = await DoubleRatchetImpl.decrypt_initial_message(*DR_ARGS, sk, spk.priv, enc, ad)
        else:
            pt = await dr.decrypt_message(enc, B(st["ad"]))
        st["confirmed"] = True
        st["dr"] = dr.json
        return {"plaintext": H(pt)}
    raise ValueError(kind)


async def crypto_op(op):
    kind = op["op"]
    if kind == "ed_to_curve":
        out = []
        for k in op["keys"]:
            try:
                out.append(H(xeddsa.ed25519_pub_to_curve25519_pub(B(k))))
            except Exception:  # noqa: BLE001 - a refused key is the answer
                out.append(None)
        return out
    if kind == "verify":
        return [xeddsa.ed25519_verify(B(c["sig"]), B(c["pub"]), B(c["msg"])) for c in op["cases"]]
    if kind == "sign":
        out = []
        for m in op["msgs"]:
            seed = secrets.token_bytes(32)
            out.append({
                "ed": H(xeddsa.seed_to_ed25519_pub(seed)),
                "curve": H(xeddsa.priv_to_curve25519_pub(xeddsa.seed_to_priv(seed))),
                "msg": m,
                "sig": H(xeddsa.ed25519_seed_sign(seed, B(m))),
            })
        return out
    backend = Twomemo(None)  # payload crypto needs no storage
    if kind == "seal":
        content, key_material = await backend.encrypt_plaintext(B(op["plaintext"]))
        return {"payload": H(content.ciphertext), "key": H(key_material.key), "tag": H(key_material.auth_tag)}
    if kind == "open":
        try:
            pt = await backend.decrypt_plaintext(ContentImpl(B(op["payload"])), PlainKeyMaterialImpl(B(op["key"]), B(op["tag"])))
        except Exception:  # noqa: BLE001 - a refused payload is the answer
            return {"plaintext": None}
        return {"plaintext": H(pt)}
    return None


async def run(req):
    st = req.get("state") or {}
    results = []
    for op in req["ops"]:
        r = await crypto_op(op)
        results.append(r if r is not None else await session_op(st, op))
    return {"state": st, "results": results}


print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))
