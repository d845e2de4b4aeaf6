#!/usr/bin/python3
"""python-omemo (oldmemo / x3dh / doubleratchet, Debian packages) side of `npm run bench`.

Runs the W1, W2 and W3 workloads of docs/benchmarks.md once and prints JSON on stdout:
  {"w1_msgs_per_s": float, "w1_messages": int, "w2_ms": float, "w2_sessions": int,
   "w3_us": float, "w3_sessions": 10, "versions": {...}}
Usage: /usr/bin/python3 bench/python_omemo.py [--w1 N] [--w2 N] [--w3 ITERATIONS] [--only w1|w2|w3]

The library is driven at the level of oldmemo's Oldmemo backend (build_session_active,
decrypt_key_material) without python-omemo's storage layer, the same way
test/python/oracle_session.py drives it. Leaving storage out favours python, so the ratio the TS
runner reports is conservative.
"""

import argparse
import asyncio
import json
import os
import sys
import time

import x3dh
import xeddsa
from doubleratchet.recommended import diffie_hellman_ratchet_curve25519
from omemo.session import Initiation
from oldmemo.oldmemo import (
    AEADImpl,
    Oldmemo,
    DoubleRatchetImpl,
    EncryptedKeyMaterialImpl,
    KeyExchangeImpl,
    MessageChainKDFImpl,
    RootChainKDFImpl,
    SessionImpl,
    StateImpl,
)

# NOTE: restored from bench/__pycache__ bytecode after an accidental overwrite; logic and strings
# are the original's, comments between the imports and here were not recoverable.
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
IK_LEN = StateImpl.IDENTITY_KEY_ENCODING_LENGTH
MSG32 = b"x" * 32


# Legacy OMEMO MACs sender-first: the passive side swaps the stored initiator-first AD.
def swapped(ad):
    return ad[IK_LEN:] + ad[:IK_LEN]


def new_state(pre_keys):
    st = StateImpl.create(FMT, HASH, StateImpl.INFO)
    st.generate_pre_keys(pre_keys)
    return st


def published(st):
    """The bundle as a peer receives it from PEP: Curve25519 identity key with the sign bit folded
    into the signature (oldmemo.etree.serialize_bundle)."""
    b = st.bundle
    sig = bytearray(b.signed_pre_key_sig)
    sig[63] |= b.identity_key[31] & 0x80
    pre_keys = sorted(b.pre_keys)
    return {
        "ik": xeddsa.ed25519_pub_to_curve25519_pub(b.identity_key),
        "spk": b.signed_pre_key,
        "sig": bytes(sig),
        "pre_keys": {pk: i + 1 for i, pk in enumerate(pre_keys)},
    }


def parse_published(pb):
    """oldmemo.etree.parse_bundle: unfold the sign bit, convert the identity key back."""
    sig = bytearray(pb["sig"])
    sign_bit = bool(sig[63] >> 7)
    sig[63] &= 0x7F
    return x3dh.Bundle(
        identity_key=xeddsa.curve25519_pub_to_ed25519_pub(pb["ik"], sign_bit),
        signed_pre_key=pb["spk"],
        signed_pre_key_sig=bytes(sig),
        pre_keys=frozenset(pb["pre_keys"]),
    )


async def build_active(alice, pb, plaintext):
    """Oldmemo.build_session_active + KeyExchangeImpl.serialize (the PreKeyWhisperMessage bytes)."""
    bundle = parse_published(pb)
    sk, ad, header = await alice.get_shared_secret_active(bundle)
    dr, msg = await DoubleRatchetImpl.encrypt_initial_message(*DR_ARGS, sk, bundle.signed_pre_key, plaintext, ad)
    data, _ = KeyExchangeImpl(header, 1, pb["pre_keys"][header.pre_key]).serialize(msg.ciphertext)
    return dr, ad, data


async def w1(n):
    """Bob decrypts n messages from Alice; Alice's sending chain changes every 3 messages because
    Bob answers (untimed) after every 3rd, so every 3rd message costs Bob a DH ratchet step."""
    alice, bob = new_state(1), new_state(1)
    dr_a, ad, data = await build_active(alice, published(bob), MSG32)
    kex, inner = KeyExchangeImpl.parse(data, False)
    header = x3dh.Header(kex.header.identity_key, kex.header.ephemeral_key, bob.bundle.signed_pre_key,
                         next(iter(bob.bundle.pre_keys)))
    sk, ad_b, spk = await bob.get_shared_secret_passive(header)
    enc = EncryptedKeyMaterialImpl.parse(inner, "alice@bench", 1).encrypted_message
    dr_b, _ = await DoubleRatchetImpl.decrypt_initial_message(*DR_ARGS, sk, spk.priv, enc, ad_b)
    ad_a_send, ad_a_recv = ad, swapped(ad)
    ad_b_send, ad_b_recv = swapped(ad_b), ad_b

    async def bob_replies():
        m = await dr_b.encrypt_message(MSG32, ad_b_send)
        e = EncryptedKeyMaterialImpl.parse(m.ciphertext, "bob@bench", 2).encrypted_message
        await dr_a.decrypt_message(e, ad_a_recv)

    await bob_replies()
    timed = 0.0
    for i in range(n):
        wire = (await dr_a.encrypt_message(MSG32, ad_a_send)).ciphertext
        t0 = time.perf_counter()
        e = EncryptedKeyMaterialImpl.parse(wire, "alice@bench", 1).encrypted_message
        pt = await dr_b.decrypt_message(e, ad_b_recv)
        timed += time.perf_counter() - t0
        if pt != MSG32:
            raise RuntimeError("W1: wrong plaintext")
        if i % 3 == 2:
            await bob_replies()
    return n / timed


async def w2(n, bundles):
    """A fresh device builds n sessions from published bundles and encrypts a first 32-byte message
    for each (signature check, X3DH, ratchet init, PreKeyWhisperMessage serialized)."""
    alice = new_state(1)
    t0 = time.perf_counter()
    for pb in bundles[:n]:
        await build_active(alice, pb, MSG32)
    return (time.perf_counter() - t0) * 1000


async def w3(devices, iterations):
    """One 32-byte message for `devices` established sessions, through oldmemo's own
    Oldmemo.encrypt_plaintext (AES-GCM body) and Oldmemo.encrypt_key_material (one ratchet step and
    serialization per session). Neither method touches `self`, so no storage is involved.
    Returns the median µs per message."""
    alice = new_state(1)
    sessions = []
    for i in range(devices):
        bob = new_state(1)
        pb = published(bob)
        dr_a, ad, data = await build_active(alice, pb, MSG32)
        kex, inner = KeyExchangeImpl.parse(data, False)
        header = x3dh.Header(kex.header.identity_key, kex.header.ephemeral_key, bob.bundle.signed_pre_key,
                             next(iter(bob.bundle.pre_keys)))
        sk, ad_b, spk = await bob.get_shared_secret_passive(header)
        enc = EncryptedKeyMaterialImpl.parse(inner, "alice@bench", 1).encrypted_message
        dr_b, _ = await DoubleRatchetImpl.decrypt_initial_message(*DR_ARGS, sk, spk.priv, enc, ad_b)
        reply = await dr_b.encrypt_message(b"\x00" * 16, swapped(ad_b))
        e = EncryptedKeyMaterialImpl.parse(reply.ciphertext, "bob@bench", i + 2).encrypted_message
        await dr_a.decrypt_message(e, swapped(ad))
        sessions.append(SessionImpl("bob@bench", i + 2, Initiation.ACTIVE, kex, ad, dr_a, True))
    times = []
    for i in range(iterations + 20):
        t0 = time.perf_counter()
        _content, pkm = await Oldmemo.encrypt_plaintext(None, MSG32)
        for s in sessions:
            (await Oldmemo.encrypt_key_material(None, s, pkm)).serialize()
        if i >= 20:
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e6


def version(mod):
    try:
        from importlib.metadata import version as v
        return v(mod)
    except Exception:
        return "?"


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--w1", type=int, default=10000)
    ap.add_argument("--w2", type=int, default=100)
    ap.add_argument("--w3", type=int, default=200, help="W3 iterations")
    ap.add_argument("--only", choices=["w1", "w2", "w3"])
    a = ap.parse_args()
    out = {"versions": {m: version(m) for m in ("OMEMO", "Oldmemo", "DoubleRatchet", "X3DH", "XEdDSA")},
           "python": sys.version.split()[0], "pid": os.getpid()}
    if a.only in (None, "w2"):
        bundles = [published(new_state(100)) for _ in range(a.w2)]
        out.update(w2_ms=await w2(a.w2, bundles), w2_sessions=a.w2)
    if a.only in (None, "w3"):
        out.update(w3_us=await w3(10, a.w3), w3_sessions=10)
    if a.only in (None, "w1"):
        out.update(w1_msgs_per_s=await w1(a.w1), w1_messages=a.w1)
    print(json.dumps(out))


asyncio.run(main())
