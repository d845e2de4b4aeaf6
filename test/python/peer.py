#!/usr/bin/python3
"""Live OMEMO reference peer for xchat's interop tests.

A slixmpp client that speaks legacy OMEMO (eu.siacs.conversations.axolotl) through python-omemo's
SessionManager with the oldmemo backend. The test drives it with one JSON object per line on stdin
and reads one JSON event per line from stdout; everything else (logging, tracebacks) goes to stderr.
Run it with Debian's /usr/bin/python3 (the only interpreter with omemo/oldmemo/slixmpp installed).

Usage:
  peer.py --jid bob@localhost --password pw --host 127.0.0.1 --port N --ca CAFILE --state DIR
          [--auto-subscribe] [--echo] [--manual-trust] [--verbose]
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import sys
import tempfile
import traceback
import xml.etree.ElementTree as ET
from typing import Any, Dict, FrozenSet, Optional

# stdout is the protocol channel: keep a private handle and send every stray print to stderr.
_PROTO = sys.stdout
sys.stdout = sys.stderr

import omemo  # noqa: E402
import oldmemo  # noqa: E402
import oldmemo.etree  # noqa: E402
import xeddsa  # noqa: E402
from omemo.storage import Just, Maybe, Nothing, Storage  # noqa: E402
from omemo.types import DeviceInformation, JSONType, TrustLevel  # noqa: E402
from slixmpp import ClientXMPP  # noqa: E402
from slixmpp.exceptions import IqError, IqTimeout  # noqa: E402
from slixmpp.xmlstream.handler import Callback  # noqa: E402
from slixmpp.xmlstream.matcher import MatchXPath  # noqa: E402

import peer_extras  # noqa: E402  (receipts, chat states, corrections, retractions)
import peer_muc  # noqa: E402  (group chat with OMEMO)
import peer_files  # noqa: E402  (XEP-0363 upload, XEP-0454 aesgcm:// links)

NS = oldmemo.oldmemo.NAMESPACE  # eu.siacs.conversations.axolotl
DEVICELIST_NODE = f"{NS}.devicelist"
BUNDLE_NODE_PREFIX = f"{NS}.bundles:"
FALLBACK_BODY = "I sent you an OMEMO encrypted message but your client doesn't seem to support that."

# Custom trust level names stored by python-omemo; mapped to core levels in _evaluate_custom_trust_level.
TRUST_NAMES = {
    "trusted": TrustLevel.TRUSTED,
    "distrusted": TrustLevel.DISTRUSTED,
    "undecided": TrustLevel.UNDECIDED,
}

log = logging.getLogger("peer")


def emit(event: Dict[str, Any]) -> None:
    """Write one protocol event as a JSON line on the real stdout."""
    try:
        _PROTO.write(json.dumps(event, default=str) + "\n")
        _PROTO.flush()
    except (BrokenPipeError, ValueError):
        # The driver went away; nothing left to report to.
        pass


def emit_exception(where: str, exc: BaseException, **extra: Any) -> None:
    emit({
        "event": "exception",
        "where": where,
        "type": type(exc).__name__,
        "error": str(exc),
        **extra,
    })
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def fingerprint_of(identity_key_ed25519: bytes) -> str:
    """64 lowercase hex chars of the Curve25519 identity key (the OMEMO fingerprint)."""
    return xeddsa.ed25519_pub_to_curve25519_pub(identity_key_ed25519).hex()


# --------------------------------------------------------------------------------------------------
# Storage: one JSON document, rewritten atomically on every change so sessions survive restarts.
# --------------------------------------------------------------------------------------------------
class JsonFileStorage(Storage):
    def __init__(self, directory: str) -> None:
        # The whole document lives in memory already, a second cache would only duplicate it.
        super().__init__(disable_cache=True)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self.__path = os.path.join(directory, "omemo.json")
        self.__data: Dict[str, JSONType] = {}
        if os.path.exists(self.__path):
            with open(self.__path, "r", encoding="utf-8") as f:
                loaded = json.load(f)
            if not isinstance(loaded, dict):
                raise ValueError(f"{self.__path}: not a JSON object")
            self.__data = loaded

    def __flush(self) -> None:
        directory = os.path.dirname(self.__path)
        fd, tmp = tempfile.mkstemp(prefix=".omemo.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.__data, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.__path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    async def _load(self, key: str) -> Maybe[JSONType]:
        if key in self.__data:
            return Just(self.__data[key])
        return Nothing()

    async def _store(self, key: str, value: JSONType) -> None:
        self.__data[key] = value
        self.__flush()

    async def _delete(self, key: str) -> None:
        if key in self.__data:
            del self.__data[key]
            self.__flush()


# --------------------------------------------------------------------------------------------------
# SessionManager glue over slixmpp PEP.
# --------------------------------------------------------------------------------------------------
def is_item_not_found(e: IqError) -> bool:
    return e.iq["error"]["condition"] == "item-not-found"


class PeerSessionManager(omemo.SessionManager):
    # SessionManager.create() instantiates the class without arguments and already calls the XMPP
    # hooks before returning, so the client is reached through a class attribute set beforehand.
    client: "Peer"

    async def _upload_bundle(self, bundle: omemo.Bundle) -> None:  # type: ignore[override]
        if not isinstance(bundle, oldmemo.oldmemo.BundleImpl):
            raise omemo.UnknownNamespace(f"unexpected bundle type {type(bundle)}")
        try:
            await self.client.pep_publish(
                f"{BUNDLE_NODE_PREFIX}{bundle.device_id}",
                oldmemo.etree.serialize_bundle(bundle),
            )
        except Exception as e:
            raise omemo.BundleUploadFailed(str(e)) from e

    async def _download_bundle(  # type: ignore[override]
        self, namespace: str, bare_jid: str, device_id: int
    ) -> omemo.Bundle:
        if namespace != NS:
            raise omemo.UnknownNamespace(namespace)
        try:
            elt = await self.client.pep_fetch(bare_jid, f"{BUNDLE_NODE_PREFIX}{device_id}", "bundle")
        except IqError as e:
            if is_item_not_found(e):
                raise omemo.BundleNotFound(f"no bundle for {bare_jid}/{device_id}") from e
            raise omemo.BundleDownloadFailed(str(e)) from e
        except IqTimeout as e:
            raise omemo.BundleDownloadFailed("timeout") from e
        if elt is None:
            raise omemo.BundleNotFound(f"empty bundle node for {bare_jid}/{device_id}")
        try:
            return oldmemo.etree.parse_bundle(elt, bare_jid, device_id)
        except Exception as e:
            raise omemo.BundleDownloadFailed(f"malformed bundle: {e}") from e

    async def _delete_bundle(self, namespace: str, device_id: int) -> None:  # type: ignore[override]
        if namespace != NS:
            raise omemo.UnknownNamespace(namespace)
        try:
            await self.client["xep_0060"].delete_node(None, f"{BUNDLE_NODE_PREFIX}{device_id}")
        except IqError as e:
            if not is_item_not_found(e):
                raise omemo.BundleDeletionFailed(str(e)) from e
        except IqTimeout as e:
            raise omemo.BundleDeletionFailed("timeout") from e

    async def _upload_device_list(  # type: ignore[override]
        self, namespace: str, device_list: Dict[int, Optional[str]]
    ) -> None:
        if namespace != NS:
            raise omemo.UnknownNamespace(namespace)
        try:
            await self.client.pep_publish(DEVICELIST_NODE, oldmemo.etree.serialize_device_list(device_list))
        except Exception as e:
            raise omemo.DeviceListUploadFailed(str(e)) from e

    async def _download_device_list(  # type: ignore[override]
        self, namespace: str, bare_jid: str
    ) -> Dict[int, Optional[str]]:
        if namespace != NS:
            raise omemo.UnknownNamespace(namespace)
        if self.client.forcing_device_id and bare_jid == self.client.boundjid.bare:
            # --force-device-id: first run must not see its id as taken (it is: by the old key).
            return {}
        try:
            elt = await self.client.pep_fetch(bare_jid, DEVICELIST_NODE, "list")
        except IqError as e:
            if is_item_not_found(e):
                return {}
            raise omemo.DeviceListDownloadFailed(str(e)) from e
        except IqTimeout as e:
            raise omemo.DeviceListDownloadFailed("timeout") from e
        return parse_device_list_lenient(elt)

    async def _evaluate_custom_trust_level(self, device: DeviceInformation) -> TrustLevel:
        try:
            return TRUST_NAMES[device.trust_level_name]
        except KeyError:
            raise omemo.UnknownTrustLevel(device.trust_level_name) from None

    async def _make_trust_decision(
        self, undecided: FrozenSet[DeviceInformation], identifier: Optional[str]
    ) -> None:
        if not self.client.auto_trust:
            raise omemo.TrustDecisionFailed(
                "manual trust mode: undecided devices "
                + ", ".join(f"{d.bare_jid}/{d.device_id}" for d in undecided)
            )
        # Blind trust before verification: every new identity is trusted on first sight.
        for device in undecided:
            await self.set_trust(device.bare_jid, device.identity_key, "trusted")

    async def _send_message(self, message: omemo.Message, bare_jid: str) -> None:  # type: ignore[override]
        try:
            self.client.send_omemo_stanza(bare_jid, message, body=None)
            emit({"event": "log", "what": "auto_empty_message_sent", "to": bare_jid})
        except Exception as e:
            raise omemo.MessageSendingFailed(str(e)) from e


def parse_device_list_lenient(elt: Optional[ET.Element]) -> Dict[int, Optional[str]]:
    """An absent or empty <list/> is an empty device list (the schema wants at least one device)."""
    if elt is None or len(list(elt)) == 0:
        return {}
    return oldmemo.etree.parse_device_list(elt)


# --------------------------------------------------------------------------------------------------
# The XMPP client.
# --------------------------------------------------------------------------------------------------
class Peer(ClientXMPP):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args.jid, args.password)
        self.args = args
        self.auto_trust = not args.manual_trust
        self.echo = args.echo
        self.forcing_device_id = False
        self.ca_certs = args.ca  # verify the server certificate against this CA file only
        # None = leave subscription requests pending until an "allow" command.
        self.auto_authorize = True if args.auto_subscribe else None
        self.auto_subscribe = bool(args.auto_subscribe)
        self.sm: Optional[PeerSessionManager] = None
        self.ready = asyncio.get_event_loop().create_future()
        self.quitting = False
        # One OMEMO operation at a time: concurrent decrypt/encrypt would load and store the same
        # session twice and lose a ratchet step. asyncio.Lock is FIFO, so stanza order is kept.
        self.omemo_lock = asyncio.Lock()

        # xep_0184 answers receipt requests by itself (auto_ack).
        for plugin in ("xep_0030", "xep_0004", "xep_0060", "xep_0163", "xep_0199", "xep_0184"):
            self.register_plugin(plugin)
        peer_muc.setup(self)

        self.add_event_handler("session_start", self.guard("session_start", self.on_session_start))
        # slixmpp's own "message" event only fires for stanzas with a <body>; OMEMO key-transport
        # messages and injected malformed stanzas may have none, so match every message stanza.
        on_message = self.guard("message", self.on_message)
        self.register_handler(Callback(
            "PeerAllMessages",
            MatchXPath(f"{{{self.default_ns}}}message"),
            lambda msg: asyncio.ensure_future(on_message(msg)),
        ))
        self.add_event_handler("pubsub_publish", self.guard("pubsub_publish", self.on_pubsub_publish))
        self.add_event_handler("presence_subscribe", self.guard("presence", self.on_presence))
        self.add_event_handler("presence_subscribed", self.guard("presence", self.on_presence))
        self.add_event_handler("presence_unsubscribe", self.guard("presence", self.on_presence))
        self.add_event_handler("presence_unsubscribed", self.guard("presence", self.on_presence))
        self.add_event_handler("changed_status", self.guard("presence", self.on_changed_status))
        self.add_event_handler("failed_auth", self.on_failed_auth)
        self.add_event_handler("connection_failed", self.on_connection_failed)
        self.add_event_handler("disconnected", self.on_disconnected)

    # Every handler runs inside this guard: an exception becomes an event, the peer keeps going.
    def guard(self, where: str, handler: Any) -> Any:
        async def wrapped(*a: Any) -> None:
            try:
                result = handler(*a)
                if asyncio.iscoroutine(result):
                    await result
            except Exception as e:  # noqa: BLE001
                emit_exception(where, e)
        return wrapped

    # ---------------------------------------------------------------- connection lifecycle
    def on_failed_auth(self, _event: Any) -> None:
        emit({"event": "error", "phase": "auth", "error": "authentication failed"})
        if not self.ready.done():
            self.ready.set_exception(RuntimeError("authentication failed"))

    def on_connection_failed(self, error: Any) -> None:
        emit({"event": "error", "phase": "connect", "error": str(error)})
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(f"connection failed: {error}"))

    def on_disconnected(self, reason: Any) -> None:
        emit({"event": "disconnected", "reason": str(reason) if reason else None})
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(f"disconnected before ready: {reason}"))
        elif not self.quitting:
            # No reconnect logic: a peer that lost its server is of no use to a test, so exit (code 3)
            # instead of lingering.
            global exit_code
            exit_code = 3
            done.set()

    async def _create_session_manager(self) -> "PeerSessionManager":
        return await PeerSessionManager.create(
            [oldmemo.Oldmemo(self.omemo_storage)],
            self.omemo_storage,
            self.boundjid.bare,
            None,
            "undecided",
            async_framework=omemo.AsyncFramework.ASYNCIO,
        )

    async def on_session_start(self, _event: Any) -> None:
        try:
            # force_starttls is on by default; double-check that the stream really is TLS.
            if self.transport is None or self.transport.get_extra_info("peercert") is None:
                raise RuntimeError("stream is not TLS-protected")
            await self.get_roster()
            PeerSessionManager.client = self
            forced = self.args.force_device_id
            real_randbelow = omemo.session_manager.secrets.randbelow
            if forced:
                # Hostile/test: a fresh identity under a given device id, as a reinstalled client
                # or an impostor reusing someone's id would have.
                self.forcing_device_id = True
                omemo.session_manager.secrets.randbelow = lambda _n: forced - omemo.SessionManager.DEVICE_ID_MIN
            try:
                self.sm = await self._create_session_manager()
            finally:
                omemo.session_manager.secrets.randbelow = real_randbelow
                self.forcing_device_id = False
            # No offline catch-up to do: leave history-sync mode so prekeys get deleted right away and
            # key exchanges are completed immediately.
            await self.sm.after_history_sync()
            # Make sure our device list and bundle are online even on a restart (create() only
            # publishes on first run) so a fresh server still finds us.
            await self.sm.refresh_device_list(NS, self.boundjid.bare)
            self["xep_0163"].add_interest(DEVICELIST_NODE)
            self.send_presence()
            own, _ = await self.sm.get_own_device_information()
            if not self.ready.done():
                self.ready.set_result(True)
            emit({
                "event": "ready",
                "jid": self.boundjid.bare,
                "full_jid": str(self.boundjid),
                "device_id": own.device_id,
                "fingerprint": fingerprint_of(own.identity_key),
            })
        except Exception as e:
            emit_exception("session_start", e)
            if not self.ready.done():
                self.ready.set_exception(e)

    # ---------------------------------------------------------------- PEP helpers
    def publish_options(self) -> Any:
        form = self["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden",
                       value="http://jabber.org/protocol/pubsub#publish-options")
        form.add_field(var="pubsub#access_model", value="open")
        return form

    async def pep_publish(self, node: str, payload: ET.Element) -> None:
        try:
            await self["xep_0060"].publish(None, node, id="current", payload=payload,
                                           options=self.publish_options())
        except IqError as e:
            if e.iq["error"]["condition"] != "conflict":
                raise
            # precondition-not-met: the node exists with another access model. Reconfigure, retry.
            config = self["xep_0004"].make_form(ftype="submit")
            config.add_field(var="FORM_TYPE", ftype="hidden",
                             value="http://jabber.org/protocol/pubsub#node_config")
            config.add_field(var="pubsub#access_model", value="open")
            await self["xep_0060"].set_node_config(None, node, config)
            await self["xep_0060"].publish(None, node, id="current", payload=payload,
                                           options=self.publish_options())

    async def pep_fetch(self, jid: str, node: str, local_name: str) -> Optional[ET.Element]:
        """The payload of the 'current' item (or the last item) of a PEP node, or None."""
        iq = await self["xep_0060"].get_items(jid, node, timeout=15)
        chosen: Optional[ET.Element] = None
        for item in iq["pubsub"]["items"]:
            payload = item["payload"]
            if payload is None or payload.tag != f"{{{NS}}}{local_name}":
                continue
            chosen = payload
            if item["id"] == "current":
                break
        return chosen

    # ---------------------------------------------------------------- incoming
    def on_pubsub_publish(self, msg: Any) -> None:
        items = msg["pubsub_event"]["items"]
        if items["node"] != DEVICELIST_NODE or self.sm is None:
            return
        sender = msg["from"].bare or self.boundjid.bare
        for item in items:
            payload = item["payload"]
            if payload is None:
                continue
            device_list = parse_device_list_lenient(payload)
            if len(device_list) > 1000:
                # Hostile lists this peer publishes itself (tests): python-omemo would chew on it for long.
                emit({"event": "device_list_ignored", "jid": sender, "count": len(device_list)})
                continue
            asyncio.ensure_future(self.guard("device_list_update", self.locked_device_list_update)(
                sender, device_list))
            emit({"event": "device_list", "jid": sender, "devices": sorted(device_list.keys())})

    async def locked_device_list_update(self, jid: str, device_list: Dict[int, Optional[str]]) -> None:
        assert self.sm is not None
        async with self.omemo_lock:
            await self.sm.update_device_list(NS, jid, device_list)

    async def on_presence(self, pres: Any) -> None:
        emit({"event": "presence", "from": pres["from"].bare, "type": pres["type"]})

    async def on_changed_status(self, pres: Any) -> None:
        # Availability (show/status) of a contact's resource, for tests of the sender's /status.
        emit({"event": "presence", "from": pres["from"].bare, "resource": pres["from"].resource,
              "type": "unavailable" if pres["type"] == "unavailable" else "available",
              "show": pres["show"] or "", "status": pres["status"] or ""})

    async def on_message(self, msg: Any) -> None:
        mtype = msg["type"]
        sender = msg["from"].bare
        if mtype == "error":
            emit({"event": "message_error", "from": sender, "id": msg["id"],
                  "condition": msg["error"]["condition"], "text": msg["error"]["text"]})
            return
        if mtype == "groupchat":
            await peer_muc.on_groupchat(self, msg, emit)
            return
        if msg.xml.find("{http://jabber.org/protocol/pubsub#event}event") is not None:
            return
        for signal in peer_extras.signal_events(msg.xml, sender):
            emit(signal)
        encrypted = msg.xml.find(f"{{{NS}}}encrypted")
        if encrypted is None:
            body = msg["body"]
            if body:
                emit({"event": "message", "from": sender, "body": body, "encrypted": False,
                      "id": msg["id"], **peer_extras.extras_of(msg.xml)})
            return
        await self.handle_encrypted(msg, sender, encrypted)

    async def handle_encrypted(self, msg: Any, sender: str, encrypted: ET.Element) -> None:
        async with self.omemo_lock:
            body = await self.decrypt_and_report(msg, sender, encrypted)
        if body is not None and self.echo and sender != self.boundjid.bare:
            emit({**await self.cmd_send({"to": sender, "body": f"echo: {body}"}), "cmd": "echo"})

    async def decrypt_and_report(self, msg: Any, sender: str, encrypted: ET.Element) -> Optional[str]:
        """Decrypts one <encrypted/> element and emits the outcome; returns the body if there is one."""
        if self.sm is None:
            emit({"event": "decrypt_error", "from": sender, "error": "not ready", "type": "NotReady"})
            return None
        try:
            message = await oldmemo.etree.parse_message(encrypted, sender, self.boundjid.bare, self.sm)
            own_device_id = (await self.sm.get_own_device_information())[0].device_id
            prekey = any(
                key.device_id == own_device_id and key_exchange is not None
                for key, key_exchange in message.keys
            )
            plaintext, device, _key_material = await self.sm.decrypt(message)
        except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal
            emit({"event": "decrypt_error", "from": sender, "id": msg["id"],
                  "type": type(e).__name__, "error": str(e) or repr(e)})
            traceback.print_exc(file=sys.stderr)
            return None
        common = {"from": sender, "sender_device": device.device_id, "prekey": prekey,
                  "id": msg["id"], "fingerprint": fingerprint_of(device.identity_key),
                  **peer_extras.extras_of(msg.xml)}
        if plaintext is None:
            emit({"event": "empty", **common})
            return None
        body = plaintext.decode("utf-8", errors="replace")
        emit({"event": "message", "body": body, "encrypted": True, **common})
        return body

    # ---------------------------------------------------------------- outgoing
    def send_omemo_stanza(self, to: str, message: omemo.Message, body: Optional[str],
                          msg_id: Optional[str] = None, extras: Optional[Dict[str, Any]] = None) -> str:
        stanza = self.make_message(mto=to, mtype="chat")
        if msg_id:
            stanza["id"] = msg_id
        elif not stanza["id"]:
            stanza["id"] = self.new_id()
        stanza.append(oldmemo.etree.serialize_message(message))
        if body is not None:
            stanza["body"] = body
        stanza.append(ET.Element("{urn:xmpp:hints}store"))
        eme = ET.Element("{urn:xmpp:eme:0}encryption", {"namespace": NS, "name": "OMEMO"})
        stanza.append(eme)
        peer_extras.decorate(stanza.xml, extras or {})
        stanza.send()
        return stanza["id"]

    async def cmd_send(self, cmd: Dict[str, Any]) -> Dict[str, Any]:
        async with self.omemo_lock:
            return await self.encrypt_and_send(cmd)

    async def encrypt_and_send(self, cmd: Dict[str, Any]) -> Dict[str, Any]:
        assert self.sm is not None
        to = str(cmd["to"])
        body = str(cmd["body"])
        # python-omemo only uses the stored device list; fetch fresh lists so the recipient's (and our
        # own other) devices are known even without PEP notifications.
        for jid in (to, self.boundjid.bare):
            try:
                await self.sm.refresh_device_list(NS, jid)
            except Exception as e:  # noqa: BLE001
                emit({"event": "log", "what": "device_list_refresh_failed", "jid": jid, "error": str(e)})
        messages, errors = await self.sm.encrypt(frozenset({to}), {NS: body.encode("utf-8")})
        message = next(iter(messages))
        fallback = cmd.get("fallback", FALLBACK_BODY)
        msg_id = self.send_omemo_stanza(to, message, fallback, cmd.get("id"), cmd)
        return {
            "event": "sent",
            "id": msg_id,
            "to": to,
            "rids": sorted(k.device_id for k, _ in message.keys),
            "prekey_rids": sorted(k.device_id for k, kx in message.keys if kx is not None),
            "errors": [f"{e.bare_jid}/{e.device_id}: {type(e.exception).__name__}: {e.exception}"
                       for e in errors],
        }

    # ---------------------------------------------------------------- command dispatch
    async def handle_command(self, cmd: Dict[str, Any]) -> None:
        name = cmd.get("cmd")
        tag = {"cmd": name, **({"tag": cmd["tag"]} if "tag" in cmd else {})}
        try:
            if name == "send":
                emit({**await self.cmd_send(cmd), **tag})
            elif name == "send_plain":
                stanza = self.make_message(mto=cmd["to"], mbody=cmd["body"], mtype=cmd.get("type", "chat"))
                if cmd.get("id"):
                    stanza["id"] = cmd["id"]
                elif not stanza["id"]:
                    stanza["id"] = self.new_id()
                peer_extras.decorate(stanza.xml, cmd)
                stanza.send()
                emit({"event": "sent", "id": stanza["id"], "to": cmd["to"], "plain": True, **tag})
            elif name == "send_raw":
                self.send_raw(str(cmd["xml"]))
                emit({"event": "sent_raw", **tag})
            elif name == "subscribe":
                self.send_presence(pto=cmd["to"], ptype="subscribe")
                emit({"event": "ok", **tag})
            elif name == "allow":
                self.send_presence(pto=cmd["to"], ptype="subscribed")
                emit({"event": "ok", **tag})
            elif name == "devices":
                assert self.sm is not None
                jid = str(cmd["jid"])
                async with self.omemo_lock:
                    await self.sm.refresh_device_list(NS, jid)
                    infos = await self.sm.get_device_information(jid)
                emit({"event": "devices", "jid": jid, **tag, "devices": sorted((
                    {"id": d.device_id, "fingerprint": fingerprint_of(d.identity_key),
                     "trust": d.trust_level_name, "active": dict(d.active).get(NS, False)}
                    for d in infos), key=lambda d: d["id"])})
            elif name == "bundle_b64":
                jid, device = str(cmd["jid"]), int(cmd["device"])
                elt = await self.pep_fetch(jid, f"{BUNDLE_NODE_PREFIX}{device}", "bundle")
                if elt is None:
                    raise omemo.BundleNotFound(f"no bundle for {jid}/{device}")
                xml = ET.tostring(elt, encoding="unicode")
                bundle = oldmemo.etree.parse_bundle(elt, jid, device)
                emit({"event": "bundle", "jid": jid, "device": device, **tag,
                      "xml_b64": base64.b64encode(xml.encode("utf-8")).decode("ascii"),
                      "fingerprint": fingerprint_of(bundle.identity_key),
                      "signed_pre_key_id": bundle.signed_pre_key_id,
                      "pre_key_count": len(bundle.pre_key_ids)})
            elif name == "trust":
                assert self.sm is not None
                jid, level = str(cmd["jid"]), str(cmd["level"])
                if level not in TRUST_NAMES:
                    raise ValueError(f"unknown trust level {level}")
                changed = []
                async with self.omemo_lock:
                    for d in await self.sm.get_device_information(jid):
                        if "device" in cmd and d.device_id != int(cmd["device"]):
                            continue
                        await self.sm.set_trust(jid, d.identity_key, level)
                        changed.append(d.device_id)
                emit({"event": "ok", "devices": changed, **tag})
            elif name == "ping":
                emit({"event": "pong", **tag})
            elif name == "quit":
                await self.quit()
            elif await peer_muc.handle_command(self, str(name), cmd, tag, emit):
                pass
            elif await peer_extras.handle_command(self, str(name), cmd, tag, emit):
                pass
            elif await peer_files.handle_command(self, str(name), cmd, tag, emit):
                pass
            else:
                emit({"event": "error", "error": f"unknown command {name!r}", **tag})
        except Exception as e:  # noqa: BLE001
            emit({"event": "error", "type": type(e).__name__, "error": str(e) or repr(e), **tag})
            traceback.print_exc(file=sys.stderr)

    async def quit(self) -> None:
        if self.quitting:
            return
        self.quitting = True
        try:
            await asyncio.wait_for(self.disconnect(wait=2.0), timeout=5)
        except Exception as e:  # noqa: BLE001
            log.warning("disconnect: %s", e)
        emit({"event": "bye"})
        done.set()

    omemo_storage: JsonFileStorage


done = asyncio.Event()
exit_code = 0


async def read_commands(peer: Peer) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            # The driver closed stdin (or died): leave cleanly rather than linger.
            await peer.quit()
            return
        text = line.decode("utf-8", errors="replace").strip()
        if not text:
            continue
        try:
            cmd = json.loads(text)
            if not isinstance(cmd, dict):
                raise ValueError("command must be a JSON object")
        except ValueError as e:
            emit({"event": "error", "error": f"bad command line: {e}", "line": text[:200]})
            continue
        if cmd.get("cmd") == "quit":
            await peer.handle_command(cmd)
            return
        # Commands run concurrently so a slow one (bundle fetch) does not block "quit" etc.
        asyncio.ensure_future(peer.handle_command(cmd))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jid", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True, help="CA/certificate file the server certificate must chain to")
    parser.add_argument("--state", required=True, help="directory for persistent OMEMO state")
    parser.add_argument("--auto-subscribe", action="store_true")
    parser.add_argument("--echo", action="store_true")
    parser.add_argument("--manual-trust", action="store_true",
                        help="do not blindly trust new devices; encryption to undecided devices fails")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--force-device-id", type=int, default=0,
                        help="on first run, take this device id with a fresh identity key (tests)")
    args = parser.parse_args()

    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    def on_loop_exception(_loop: Any, context: Dict[str, Any]) -> None:
        exc = context.get("exception")
        emit({"event": "exception", "where": "loop", "type": type(exc).__name__ if exc else None,
              "error": str(exc) if exc else context.get("message")})
        if exc:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)

    asyncio.get_running_loop().set_exception_handler(on_loop_exception)

    peer = Peer(args)
    peer.omemo_storage = JsonFileStorage(args.state)
    peer.connect((args.host, args.port))
    try:
        await asyncio.wait_for(asyncio.shield(peer.ready), timeout=60)
    except Exception as e:  # noqa: BLE001
        emit({"event": "error", "phase": "startup", "type": type(e).__name__, "error": str(e) or repr(e)})
        peer.abort()
        return 2
    reader_task = asyncio.ensure_future(read_commands(peer))
    await done.wait()
    reader_task.cancel()
    return exit_code


if __name__ == "__main__":
    try:
        code = asyncio.run(main())
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
