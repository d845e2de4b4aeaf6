#!/usr/bin/python3
"""Whole-element OMEMO 2 oracle: python-omemo's SessionManager with the python-twomemo backend.

JSON on stdin, JSON on stdout; the python device's whole state (python-omemo Storage) travels in
the JSON as `state`, so the TypeScript test can run several steps against one python device.

Element model (xchat's EncryptedElement for OMEMO 2, byte fields base64):
  { sid, keys: [{jid, rid, kex, data}], payload? }
Bundle model (raw keys, base64; identityKey is the Ed25519 <ik>):
  { deviceId, identityKey, signedPreKeyId, signedPreKey, signedPreKeySignature, preKeys: [{id, key}] }

Ops:
  create  {jid}                                     -> {state, deviceId, bundle}
  encrypt {state, jid, peers, body, [envelope_from], [raw]}
          python builds the SCE envelope itself (ElementTree); envelope_from overrides <from>
          (a lying sender), raw (hex) is encrypted as is instead of an envelope
                                                    -> {state, element, sent}
  decrypt {state, jid, sender, peers, element}      -> {state, envelope|null, senderDevice, sent}
          the decrypted bytes are parsed as an SCE envelope with ElementTree:
          envelope = {body, from, to, rpad, time}
`peers` doubles as the device lists and bundles python may download. `sent` lists elements
python sent on its own (empty messages completing sessions). Bundles and elements go through
twomemo.etree (serialize/parse_bundle, serialize/parse_message) and its XML schemas.
"""
import asyncio
import base64
import datetime
import json
import secrets
import sys
import xml.etree.ElementTree as ET
from typing import Any, Dict, Optional

import omemo
from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, TrustLevel
import twomemo
import twomemo.etree
from twomemo.twomemo import NAMESPACE

NS = "{" + NAMESPACE + "}"
SCE = "urn:xmpp:sce:1"
CLIENT = "jabber:client"

b64 = lambda b: base64.b64encode(b).decode("ascii")
unb64 = lambda s: base64.b64decode(s)


class DictStorage(Storage):
    def __init__(self, data: Dict[str, Any]):
        super().__init__(disable_cache=True)
        self.data = data

    async def _load(self, key: str) -> Maybe[Any]:
        return Just(self.data[key]) if key in self.data else Nothing()

    async def _store(self, key: str, value: Any) -> None:
        self.data[key] = value

    async def _delete(self, key: str) -> None:
        self.data.pop(key, None)


CTX: Dict[str, Any] = {"peers": {}, "own_bundle": None, "own_list": {}, "sent": []}


def bundle_to_xml(b: Dict[str, Any]) -> ET.Element:
    el = ET.Element(f"{NS}bundle")
    ET.SubElement(el, f"{NS}spk", attrib={"id": str(b["signedPreKeyId"])}).text = b["signedPreKey"]
    ET.SubElement(el, f"{NS}spks").text = b["signedPreKeySignature"]
    ET.SubElement(el, f"{NS}ik").text = b["identityKey"]
    pks = ET.SubElement(el, f"{NS}prekeys")
    for pk in b["preKeys"]:
        ET.SubElement(pks, f"{NS}pk", attrib={"id": str(pk["id"])}).text = pk["key"]
    return el


def xml_to_bundle(el: ET.Element, device_id: int) -> Dict[str, Any]:
    spk = el.find(f"{NS}spk")
    return {
        "deviceId": device_id,
        "identityKey": el.find(f"{NS}ik").text,
        "signedPreKeyId": int(spk.get("id")),
        "signedPreKey": spk.text,
        "signedPreKeySignature": el.find(f"{NS}spks").text,
        "preKeys": [{"id": int(p.get("id")), "key": p.text} for p in el.iter(f"{NS}pk")],
    }


def element_to_json(el: ET.Element) -> Dict[str, Any]:
    header = el.find(f"{NS}header")
    keys = []
    for keys_el in header.iter(f"{NS}keys"):
        for k in keys_el.iter(f"{NS}key"):
            keys.append({"jid": keys_el.get("jid"), "rid": int(k.get("rid")), "kex": k.get("kex") in ("true", "1"), "data": k.text})
    out: Dict[str, Any] = {"sid": int(header.get("sid")), "keys": keys}
    payload = el.find(f"{NS}payload")
    if payload is not None:
        out["payload"] = payload.text
    return out


def json_to_element(m: Dict[str, Any]) -> ET.Element:
    el = ET.Element(f"{NS}encrypted")
    header = ET.SubElement(el, f"{NS}header", attrib={"sid": str(m["sid"])})
    by_jid: Dict[str, ET.Element] = {}
    for k in m["keys"]:
        keys_el = by_jid.get(k["jid"]) or ET.SubElement(header, f"{NS}keys", attrib={"jid": k["jid"]})
        by_jid[k["jid"]] = keys_el
        attrib = {"rid": str(k["rid"])}
        if k["kex"]:
            attrib["kex"] = "true"
        ET.SubElement(keys_el, f"{NS}key", attrib=attrib).text = k["data"]
    if m.get("payload") is not None:
        ET.SubElement(el, f"{NS}payload").text = m["payload"]
    return el


def build_envelope(body: str, sender: str) -> bytes:
    env = ET.Element(f"{{{SCE}}}envelope")
    content = ET.SubElement(env, f"{{{SCE}}}content")
    ET.SubElement(content, f"{{{CLIENT}}}body").text = body
    ET.SubElement(env, f"{{{SCE}}}rpad").text = base64.b64encode(secrets.token_bytes(1 + secrets.randbelow(40))).decode()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    ET.SubElement(env, f"{{{SCE}}}time", attrib={"stamp": stamp})
    ET.SubElement(env, f"{{{SCE}}}from", attrib={"jid": sender})
    return ET.tostring(env, encoding="utf-8")


def parse_envelope(data: bytes) -> Dict[str, Any]:
    env = ET.fromstring(data.decode("utf-8"))
    assert env.tag == f"{{{SCE}}}envelope", env.tag
    content = env.find(f"{{{SCE}}}content")
    body = content.find(f"{{{CLIENT}}}body")
    rpad = env.find(f"{{{SCE}}}rpad")
    time = env.find(f"{{{SCE}}}time")
    frm = env.find(f"{{{SCE}}}from")
    to = env.find(f"{{{SCE}}}to")
    return {
        "body": None if body is None else (body.text or ""),
        "from": None if frm is None else frm.get("jid"),
        "to": None if to is None else to.get("jid"),
        "rpad": None if rpad is None else (rpad.text or ""),
        "time": None if time is None else time.get("stamp"),
    }


class Manager(omemo.SessionManager):
    @staticmethod
    async def _upload_bundle(bundle: omemo.Bundle) -> None:
        CTX["own_bundle"] = xml_to_bundle(twomemo.etree.serialize_bundle(bundle), bundle.device_id)

    @staticmethod
    async def _download_bundle(namespace: str, bare_jid: str, device_id: int) -> omemo.Bundle:
        b = CTX["peers"].get(bare_jid, {}).get(str(device_id))
        if b is None:
            raise omemo.BundleNotFound(f"no bundle for {bare_jid}/{device_id}")
        return twomemo.etree.parse_bundle(bundle_to_xml(b), bare_jid, device_id)

    @staticmethod
    async def _delete_bundle(namespace: str, device_id: int) -> None:
        pass

    @staticmethod
    async def _upload_device_list(namespace: str, device_list: Dict[int, Optional[str]]) -> None:
        CTX["own_list"] = dict(device_list)

    @staticmethod
    async def _download_device_list(namespace: str, bare_jid: str) -> Dict[int, Optional[str]]:
        if bare_jid == CTX["jid"]:
            return dict(CTX["own_list"])
        return {int(i): None for i in CTX["peers"].get(bare_jid, {})}

    async def _evaluate_custom_trust_level(self, device: DeviceInformation) -> TrustLevel:
        return TrustLevel.TRUSTED

    async def _make_trust_decision(self, undecided, identifier) -> None:
        pass

    @staticmethod
    async def _send_message(message: omemo.Message, bare_jid: str) -> None:
        CTX["sent"].append({"to": bare_jid, "element": element_to_json(twomemo.etree.serialize_message(message))})


async def open_manager(req: Dict[str, Any]) -> "tuple[Manager, DictStorage]":
    state = req.get("state") or {"data": {}, "own_list": {}}
    CTX["jid"] = req["jid"]
    CTX["peers"] = req.get("peers", {})
    CTX["own_list"] = {int(k): None for k in state["own_list"]}
    storage = DictStorage(state["data"])
    mgr = await Manager.create([twomemo.Twomemo(storage)], storage, req["jid"], None, "TRUSTED")
    await mgr.after_history_sync()
    CTX["sent"] = []
    return mgr, storage


async def main() -> None:
    req = json.loads(sys.stdin.read())
    op = req["op"]
    mgr, storage = await open_manager(req)
    own_info, _ = await mgr.get_own_device_information()
    if op == "create":
        if CTX["own_bundle"] is None:
            raise SystemExit("create must start from an empty state")
        out = {"deviceId": own_info.device_id, "bundle": CTX["own_bundle"]}
    elif op == "encrypt":
        for peer in CTX["peers"]:
            await mgr.refresh_device_list(NAMESPACE, peer)
        if req.get("raw") is not None:
            plaintext = bytes.fromhex(req["raw"])
        else:
            plaintext = build_envelope(req["body"], req.get("envelope_from") or req["jid"])
        messages, errors = await mgr.encrypt(frozenset(CTX["peers"].keys()), {NAMESPACE: plaintext})
        if errors:
            raise SystemExit(f"encryption errors: {errors}")
        (message,) = messages.keys()
        out = {"element": element_to_json(twomemo.etree.serialize_message(message))}
    elif op == "decrypt":
        for peer in CTX["peers"]:
            await mgr.refresh_device_list(NAMESPACE, peer)
        message = twomemo.etree.parse_message(json_to_element(req["element"]), req["sender"])
        plaintext, device, _ = await mgr.decrypt(message)
        out = {"envelope": None if plaintext is None else parse_envelope(plaintext), "senderDevice": device.device_id}
    else:
        raise SystemExit(f"unknown op {op}")
    out["state"] = {"data": storage.data, "own_list": [str(k) for k in CTX["own_list"]]}
    out["sent"] = CTX["sent"]
    out["ownDeviceId"] = own_info.device_id
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
