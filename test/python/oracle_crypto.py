"""Reference oracle for xchat's crypto tests, run with Debian's /usr/bin/python3.

stdin: {"ops": [{"op": NAME, ...}, ...]}  stdout: {"results": [...]} (one result per op).
All byte strings are lower-case hex. Uses python3-xeddsa, python3-x3dh and python3-oldmemo, and
mirrors python-oldmemo's etree.py for the libsignal sign-bit folding of bundle signatures.
"""
import asyncio
import json
import secrets
import sys

import x3dh
import xeddsa
from oldmemo.oldmemo import StateImpl

H = bytes.fromhex


def X(b: bytes) -> str:
    return b.hex()


def clamp(b: bytes) -> bytes:
    # libxeddsa's "Priv" is an already clamped scalar (seed_to_priv clamps); raw randomness is not one.
    c = bytearray(b)
    c[0] &= 248
    c[31] &= 127
    c[31] |= 64
    return bytes(c)


def verify_oldmemo_style(pub_curve: bytes, msg: bytes, sig: bytes) -> bool:
    # etree.parse_bundle: sign bit from sig[63] bit 7 selects the Ed25519 form, then it is cleared.
    if len(sig) != 64 or len(pub_curve) != 32:
        return False
    ed_pub = xeddsa.curve25519_pub_to_ed25519_pub(pub_curve, bool((sig[63] >> 7) & 1))
    sig_mut = bytearray(sig)
    sig_mut[63] &= 0x7F
    return xeddsa.ed25519_verify(bytes(sig_mut), ed_pub, msg)


def sign_oldmemo_style(priv: bytes, msg: bytes) -> dict:
    # x3dh with ED_25519 identities signs with the key as is (no priv_force_sign), and
    # etree.serialize_bundle folds the Ed25519 sign bit into sig[63].
    ed_pub = xeddsa.priv_to_ed25519_pub(priv)
    sig = bytearray(xeddsa.ed25519_priv_sign(priv, msg))
    sig[63] |= ed_pub[31] & 0x80
    return {
        "pub": X(xeddsa.ed25519_pub_to_curve25519_pub(ed_pub)),
        "msg": X(msg),
        "sig": X(bytes(sig)),
        "sign_bit": (ed_pub[31] >> 7) & 1,
    }


def new_state() -> StateImpl:
    # As python-omemo does: the identity is a random seed (IdentityKeyPairSeed), Ed25519 format.
    return StateImpl.create(x3dh.IdentityKeyFormat.ED_25519, x3dh.HashFunction.SHA_256, StateImpl.INFO)


def load_state(js) -> StateImpl:
    state, _ = StateImpl.from_json(js, x3dh.IdentityKeyFormat.ED_25519, x3dh.HashFunction.SHA_256, StateImpl.INFO)
    return state


def bundle_wire(state: StateImpl) -> dict:
    # The bundle as python-oldmemo publishes it (etree.serialize_bundle), minus the XML.
    b = state.bundle
    sig = bytearray(b.signed_pre_key_sig)
    sig[63] |= b.identity_key[31] & 0x80
    return {
        "identity": X(xeddsa.ed25519_pub_to_curve25519_pub(b.identity_key)),
        "spk": X(b.signed_pre_key),
        "spk_sig": X(bytes(sig)),
        "prekeys": [X(p) for p in sorted(b.pre_keys)],
    }


async def run(op: dict):
    name = op["op"]
    if name == "verify":
        return [verify_oldmemo_style(H(c["pub"]), H(c["msg"]), H(c["sig"])) for c in op["cases"]]
    if name == "sign":
        return [sign_oldmemo_style(xeddsa.seed_to_priv(secrets.token_bytes(32)), H(m)) for m in op["msgs"]]
    if name == "xeddsa_keypair":
        # The Edwards key of a clamped Curve25519 scalar, with XEdDSA's sign-bit-0 form, and a check
        # of our signature under it. (libxeddsa derives its nonce differently from the 2016 spec, so
        # signatures are compared by verification, not byte for byte.)
        priv = clamp(H(op["priv"]))
        msg = H(op["msg"])
        natural = xeddsa.priv_to_ed25519_pub(priv)
        xed = bytearray(natural)
        xed[31] &= 0x7F
        sig = bytearray(xeddsa.ed25519_priv_sign(priv, msg))
        sig[63] |= natural[31] & 0x80  # oldmemo folding
        return {
            "ed_pub": X(bytes(xed)),
            "curve_pub": X(xeddsa.priv_to_curve25519_pub(priv)),
            "sig": X(bytes(sig)),
            "ours_valid": xeddsa.ed25519_verify(H(op["our_sig"]), bytes(xed), msg),
        }
    if name == "x3dh_active":
        # Python is Alice; the bundle comes in oldmemo wire style (Curve identity + folded sig).
        sig = H(op["spk_sig"])
        identity_ed = xeddsa.curve25519_pub_to_ed25519_pub(H(op["identity"]), bool((sig[63] >> 7) & 1))
        sig_mut = bytearray(sig)
        sig_mut[63] &= 0x7F
        bundle = x3dh.Bundle(
            identity_key=identity_ed,
            signed_pre_key=H(op["spk"]),
            signed_pre_key_sig=bytes(sig_mut),
            pre_keys=frozenset(H(p) for p in op["prekeys"]),
        )
        alice = new_state()
        sk, ad, header = await alice.get_shared_secret_active(bundle, require_pre_key=bool(op["prekeys"]))
        return {
            "sk": X(sk),
            "ad": X(ad),
            "identity": X(xeddsa.ed25519_pub_to_curve25519_pub(header.identity_key)),
            "base": X(header.ephemeral_key),
            "spk": X(header.signed_pre_key),
            "prekey": None if header.pre_key is None else X(header.pre_key),
        }
    if name == "x3dh_passive_create":
        bob = new_state()
        bob.generate_pre_keys(op.get("prekeys", 3))
        return {"state": bob.json, "bundle": bundle_wire(bob)}
    if name == "x3dh_passive":
        bob = load_state(op["state"])
        header = x3dh.Header(
            identity_key=xeddsa.curve25519_pub_to_ed25519_pub(H(op["identity"]), False),
            ephemeral_key=H(op["base"]),
            signed_pre_key=H(op["spk"]),
            pre_key=None if op.get("prekey") is None else H(op["prekey"]),
        )
        sk, ad, _spk = await bob.get_shared_secret_passive(header, require_pre_key=op.get("prekey") is not None)
        return {"sk": X(sk), "ad": X(ad)}
    raise ValueError(f"unknown op {name}")


async def main():
    req = json.load(sys.stdin)
    results = [await run(op) for op in req["ops"]]
    json.dump({"results": results}, sys.stdout)


asyncio.run(main())
