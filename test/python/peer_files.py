"""Encrypted file sharing for the reference peer (peer.py): XEP-0363 upload and XEP-0454 aesgcm://
links, written independently of xchat (urllib over the lab CA + cryptography's AESGCM).

Commands:
  {"cmd": "fetch_aesgcm", "url": "aesgcm://…", "out": PATH}
      downloads, decrypts and verifies; answers {"event": "fetched", "size", "sha256"}
  {"cmd": "upload_aesgcm", "to": JID, "path": PATH, "iv_len": 12|16, "tamper": bool,
   "service": JID (default upload.<domain>), "send": bool (default true)}
      encrypts, uploads, and sends the aesgcm:// link OMEMO-encrypted; answers
      {"event": "uploaded", "url": aesgcm link, "get": https URL, "sha256"}
"""

import asyncio
import hashlib
import os
import ssl
import urllib.request
import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NS_UPLOAD = "urn:xmpp:http:upload:0"


def _ssl_context(peer: Any) -> ssl.SSLContext:
    # Verify against the lab CA only: the same trust the XMPP connection uses.
    return ssl.create_default_context(cafile=peer.ca_certs)


def parse_aesgcm(url: str) -> Dict[str, Any]:
    if not url.lower().startswith("aesgcm://") or "#" not in url:
        raise ValueError(f"not an aesgcm link: {url[:80]}")
    rest, frag = url[len("aesgcm://"):].split("#", 1)
    if len(frag) not in (88, 96):
        raise ValueError(f"bad fragment length {len(frag)}")
    raw = bytes.fromhex(frag)
    iv, key = raw[:-32], raw[-32:]
    return {"https": "https://" + rest, "iv": iv, "key": key}


def _get(url: str, ctx: ssl.SSLContext) -> bytes:
    with urllib.request.urlopen(url, context=ctx, timeout=30) as r:
        return r.read()


def _put(url: str, data: bytes, headers: Dict[str, str], ctx: ssl.SSLContext) -> int:
    req = urllib.request.Request(url, data=data, method="PUT",
                                 headers={**headers, "Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        return r.status


async def request_slot(peer: Any, service: str, filename: str, size: int) -> Dict[str, Any]:
    iq = peer.make_iq_get(ito=service)
    iq.append(ET.Element(f"{{{NS_UPLOAD}}}request",
                         {"filename": filename, "size": str(size), "content-type": "application/octet-stream"}))
    resp = await iq.send(timeout=15)
    slot = resp.xml.find(f"{{{NS_UPLOAD}}}slot")
    put = slot.find(f"{{{NS_UPLOAD}}}put")
    get = slot.find(f"{{{NS_UPLOAD}}}get")
    headers = {h.get("name"): (h.text or "") for h in put.findall(f"{{{NS_UPLOAD}}}header")}
    return {"put": put.get("url"), "get": get.get("url"), "headers": headers}


async def handle_command(peer: Any, name: str, cmd: Dict[str, Any], tag: Dict[str, Any],
                         emit: Callable[[Dict[str, Any]], None]) -> bool:
    """File commands; returns False for names it does not know."""
    if name == "fetch_aesgcm":
        link = parse_aesgcm(str(cmd["url"]))
        data = await asyncio.to_thread(_get, link["https"], _ssl_context(peer))
        plain = AESGCM(link["key"]).decrypt(link["iv"], data, None)  # raises InvalidTag
        with open(str(cmd["out"]), "wb") as f:
            f.write(plain)
        emit({"event": "fetched", "size": len(plain), "sha256": hashlib.sha256(plain).hexdigest(),
              "iv_len": len(link["iv"]), **tag})
        return True
    if name == "upload_aesgcm":
        path = str(cmd["path"])
        with open(path, "rb") as f:
            plain = f.read()
        iv_len = int(cmd.get("iv_len", 12))
        key, iv = os.urandom(32), os.urandom(iv_len)
        data = bytearray(AESGCM(key).encrypt(iv, plain, None))
        if cmd.get("tamper"):
            data[len(data) // 2] ^= 0x01
        service = str(cmd.get("service") or f"upload.{peer.boundjid.domain}")
        slot = await request_slot(peer, service, os.path.basename(path), len(data))
        status = await asyncio.to_thread(_put, slot["put"], bytes(data), slot["headers"], _ssl_context(peer))
        if status not in (200, 201):
            raise RuntimeError(f"upload answered HTTP {status}")
        url = "aesgcm://" + slot["get"][len("https://"):] + "#" + (iv + key).hex()
        if cmd.get("send", True):
            await peer.cmd_send({"to": cmd["to"], "body": url})
        emit({"event": "uploaded", "url": url, "get": slot["get"],
              "sha256": hashlib.sha256(plain).hexdigest(), **tag})
        return True
    return False
