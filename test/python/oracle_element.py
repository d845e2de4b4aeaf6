#!/usr/bin/python3
"""Whole-element OMEMO oracle: python-omemo's SessionManager with the python-oldmemo backend.

JSON on stdin, JSON on stdout. The python device's whole state (python-omemo Storage) travels in
the JSON as `state`, so the TypeScript test can run several steps against one python device.

Element model (as xchat's EncryptedElement, byte fields base64):
  { sid, keys: [{rid, prekey, data}], iv, payload? }
Bundle model (raw 32-byte keys, base64):
  { deviceId, identityKey, signedPreKeyId, signedPreKey, signedPreKeySignature, preKeys: [{id, key}] }

Ops:
  create  {jid}                                   -> {state, deviceId, bundle}
  encrypt {state, jid, peers: {jid: {deviceId: bundle}}, plaintext|null}
                                                  -> {state, element, sent}
  decrypt {state, jid, sender, peers, element}    -> {state, plaintext|null, senderDevice, sent}
`peers` doubles as the device lists and bundles python may download (a device list per jid is the
set of its keys). `sent` lists elements python sent on its own (empty messages completing sessions).
Bundles go through oldmemo.etree (serialize/parse_bundle), elements through serialize/parse_message,
so the sign-bit folding and 0x05 handling are python's own.
"""
import asyncio
import base64
import json
import sys
import xml.etree.ElementTree as ET
from typing import Any, Dict, Optional

import omemo
from omemo.storage import Just, Maybe, Nothing, Storage
from omemo.types import DeviceInformation, TrustLevel
import oldmemo
import oldmemo.etree
from oldmemo.oldmemo import NAMESPACE

NS = "{" + NAMESPACE + "}"

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
    spk = ET.SubElement(el, f"{NS}signedPreKeyPublic", attrib={"signedPreKeyId": str(b["signedPreKeyId"])})
    spk.text = b64(b"\x05" + unb64(b["signedPreKey"]))
    ET.SubElement(el, f"{NS}signedPreKeySignature").text = b["signedPreKeySignature"]
    ET.SubElement(el, f"{NS}identityKey").text = b64(b"\x05" + unb64(b["identityKey"]))
    pks = ET.SubElement(el, f"{NS}prekeys")
    for pk in b["preKeys"]:
        ET.SubElement(pks, f"{NS}preKeyPublic", attrib={"preKeyId": str(pk["id"])}).text = b64(b"\x05" + unb64(pk["key"]))
    return el


def xml_to_bundle(el: ET.Element, device_id: int) -> Dict[str, Any]:
    strip = lambda s: b64(unb64(s)[1:]) if unb64(s)[0] == 5 and len(unb64(s)) == 33 else (_ for _ in ()).throw(ValueError("bad key"))
    spk = el.find(f"{NS}signedPreKeyPublic")
    return {
        "deviceId": device_id,
        "identityKey": strip(el.find(f"{NS}identityKey").text),
        "signedPreKeyId": int(spk.get("signedPreKeyId")),
        "signedPreKey": strip(spk.text),
        "signedPreKeySignature": el.find(f"{NS}signedPreKeySignature").text,
        "preKeys": [{"id": int(p.get("preKeyId")), "key": strip(p.text)} for p in el.iter(f"{NS}preKeyPublic")],
    }


def element_to_json(el: ET.Element) -> Dict[str, Any]:
    header = el.find(f"{NS}header")
    out: Dict[str, Any] = {
        "sid": int(header.get("sid")),
        "keys": [
            {"rid": int(k.get("rid")), "prekey": k.get("prekey") in ("true", "1"), "data": k.text}
            for k in header.iter(f"{NS}key")
        ],
        "iv": header.find(f"{NS}iv").text,
    }
    payload = el.find(f"{NS}payload")
    if payload is not None:
        out["payload"] = payload.text
    return out


def json_to_element(m: Dict[str, Any]) -> ET.Element:
    el = ET.Element(f"{NS}encrypted")
    header = ET.SubElement(el, f"{NS}header", attrib={"sid": str(m["sid"])})
    for k in m["keys"]:
        attrib = {"rid": str(k["rid"])}
        if k["prekey"]:
            attrib["prekey"] = "true"
        ET.SubElement(header, f"{NS}key", attrib=attrib).text = k["data"]
    ET.SubElement(header, f"{NS}iv").text = m["iv"]
    if m.get("payload") is not None:
        ET.SubElement(el, f"{NS}payload").text = m["payload"]
    return el


class Manager(omemo.SessionManager):
    @staticmethod
    async def _upload_bundle(bundle: omemo.Bundle) -> None:
        CTX["own_bundle"] = xml_to_bundle(oldmemo.etree.serialize_bundle(bundle), bundle.device_id)

    @staticmethod
    async def _download_bundle(namespace: str, bare_jid: str, device_id: int) -> omemo.Bundle:
        b = CTX["peers"].get(bare_jid, {}).get(str(device_id))
        if b is None:
            raise omemo.BundleNotFound(f"no bundle for {bare_jid}/{device_id}")
        return oldmemo.etree.parse_bundle(bundle_to_xml(b), bare_jid, device_id)

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
        CTX["sent"].append({"to": bare_jid, "element": element_to_json(oldmemo.etree.serialize_message(message))})


async def open_manager(req: Dict[str, Any]) -> "tuple[Manager, DictStorage]":
    state = req.get("state") or {"data": {}, "own_list": {}}
    CTX["jid"] = req["jid"]
    CTX["peers"] = req.get("peers", {})
    CTX["own_list"] = {int(k): None for k in state["own_list"]}
    storage = DictStorage(state["data"])
    mgr = await Manager.create([oldmemo.Oldmemo(storage)], storage, req["jid"], None, "TRUSTED")
    await mgr.after_history_sync()
    CTX["sent"] = []
    return mgr, storage


def dump_state(storage: DictStorage) -> Dict[str, Any]:
    return {"data": storage.data, "own_list": [str(k) for k in CTX["own_list"]]}


async def main() -> None:
    req = json.loads(sys.stdin.read())
    op = req["op"]
    mgr, storage = await open_manager(req)
    own_info, _ = await mgr.get_own_device_information()
    if op == "create":
        bundle = CTX["own_bundle"]
        if bundle is None:  # loaded from state: republish to learn it
            raise SystemExit("create must start from an empty state")
        out = {"deviceId": own_info.device_id, "bundle": bundle}
    elif op == "encrypt":
        for peer in CTX["peers"]:
            await mgr.refresh_device_list(NAMESPACE, peer)
        pt = req["plaintext"]
        if pt is None:
            raise SystemExit("python side sends only bodies here")
        messages, errors = await mgr.encrypt(frozenset(CTX["peers"].keys()), {NAMESPACE: pt.encode("utf-8")})
        if errors:
            raise SystemExit(f"encryption errors: {errors}")
        (message,) = messages.keys()
        out = {"element": element_to_json(oldmemo.etree.serialize_message(message))}
    elif op == "decrypt":
        for peer in CTX["peers"]:
            await mgr.refresh_device_list(NAMESPACE, peer)
        message = await oldmemo.etree.parse_message(json_to_element(req["element"]), req["sender"], req["jid"], mgr)
        plaintext, device, _ = await mgr.decrypt(message)
        out = {
            "plaintext": None if plaintext is None else plaintext.decode("utf-8"),
            "senderDevice": device.device_id,
        }
    else:
        raise SystemExit(f"unknown op {op}")
    out["state"] = dump_state(storage)
    out["sent"] = CTX["sent"]
    out["ownDeviceId"] = own_info.device_id
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
