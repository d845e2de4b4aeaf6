"""Group chat (XEP-0045) with legacy OMEMO for the reference peer (peer.py).

Commands (JSON lines, answered with the command's tag):
  {"cmd": "muc_join", "room": R, "nick": N, "history": 0}  -> {"event": "joined", ...}
  {"cmd": "muc_leave", "room": R}                           -> {"event": "ok"}
  {"cmd": "muc_send", "room": R, "body": B, "encrypted": true, "id": optional}
      -> {"event": "sent", "groupchat": true, "recipients": [bare JIDs], "rids": [...]}
  {"cmd": "muc_members", "room": R}                         -> {"event": "members", "jids": [...]}
  {"cmd": "muc_mam", "room": R}                             -> one "message"/"decrypt_error" event per
      archived message (with "archived": true), then {"event": "mam_done", "count": n}

Incoming groupchat messages become {"event": "message", "groupchat": true, "room", "nick", "from"
(the sender's real bare JID), "body", "encrypted", "fingerprint", "sender_device"}. OMEMO needs the
real JID: it comes from the occupant's presence (non-anonymous room) or the archived <x/> item.
"""

import asyncio
import uuid
import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict, List, Optional, Set

import oldmemo
import oldmemo.etree
import xeddsa
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

NS = oldmemo.oldmemo.NAMESPACE
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_MAM = "urn:xmpp:mam:2"
NS_FORWARD = "urn:xmpp:forward:0"
NS_DELAY = "urn:xmpp:delay"
NS_SID = "urn:xmpp:sid:0"
FALLBACK_BODY = "I sent you an OMEMO encrypted message but your client doesn't seem to support that."

Emit = Callable[[Dict[str, Any]], None]


def setup(peer: Any) -> None:
    """Called from Peer.__init__: plugins and the MAM result collector."""
    peer.register_plugin("xep_0045")
    peer.muc_sent = {}  # our message id -> plaintext (our reflection is not encrypted for us)
    peer.muc_mam_results = {}  # queryid -> list of (forwarded message element, stamp)

    def on_result(msg: Any) -> None:
        result = msg.xml.find(f"{{{NS_MAM}}}result")
        if result is None:
            return
        bucket = peer.muc_mam_results.get(result.get("queryid"))
        if bucket is None:
            return
        fwd = result.find(f"{{{NS_FORWARD}}}forwarded")
        inner = fwd.find("{jabber:client}message") if fwd is not None else None
        if inner is not None:
            delay = fwd.find(f"{{{NS_DELAY}}}delay")
            bucket.append((msg["from"].bare, inner, delay.get("stamp") if delay is not None else None))

    peer.register_handler(Callback("PeerMucMam", MatchXPath(f"{{jabber:client}}message/{{{NS_MAM}}}result"), on_result))


def _real_jid_of(peer: Any, room: str, nick: str, stanza: Optional[ET.Element] = None) -> Optional[str]:
    jid = peer["xep_0045"].get_jid_property(room, nick, "jid")
    if jid:
        return str(jid).split("/")[0].lower()
    if stanza is not None:
        item = stanza.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}item")
        if item is not None and item.get("jid"):
            return item.get("jid").split("/")[0].lower()
    return None


async def members(peer: Any, room: str) -> List[str]:
    """Bare JIDs of owners, admins and members (offline ones too) plus present occupants."""
    out: Set[str] = set()
    for aff in ("owner", "admin", "member"):
        for jid in await peer["xep_0045"].get_affiliation_list(room, aff):
            out.add(str(jid).split("/")[0].lower())
    for nick in peer["xep_0045"].get_roster(room) or []:
        real = _real_jid_of(peer, room, nick)
        if real:
            out.add(real)
    return sorted(out)


async def muc_send(peer: Any, cmd: Dict[str, Any]) -> Dict[str, Any]:
    room = str(cmd["room"])
    body = str(cmd["body"])
    msg_id = str(cmd.get("id") or uuid.uuid4())
    stanza = peer.make_message(mto=room, mtype="groupchat")
    stanza["id"] = msg_id
    ET.SubElement(stanza.xml, f"{{{NS_SID}}}origin-id", {"id": msg_id})
    if cmd.get("claim_jid"):
        # Hostile: a muc#user <x> naming someone else's real JID, as if the room had said it.
        x = ET.SubElement(stanza.xml, f"{{{NS_MUC_USER}}}x")
        ET.SubElement(x, f"{{{NS_MUC_USER}}}item", {"jid": str(cmd["claim_jid"]), "affiliation": "member", "role": "participant"})
    if not cmd.get("encrypted", True):
        stanza["body"] = body
        peer.muc_sent[msg_id] = body
        stanza.send()
        return {"event": "sent", "id": msg_id, "to": room, "groupchat": True, "plain": True}
    own = peer.boundjid.bare
    # to_jids: encrypt for these instead of the members (a semi-anonymous room hides them).
    jids = [str(j) for j in cmd["to_jids"]] if cmd.get("to_jids") else [j for j in await members(peer, room) if j != own]
    async with peer.omemo_lock:
        readable = []
        for jid in jids + [own]:
            try:
                await peer.sm.refresh_device_list(NS, jid)
            except Exception:  # noqa: BLE001 - a member without OMEMO is reported below
                pass
            if jid != own and await peer.sm.get_device_information(jid):
                readable.append(jid)
        messages, errors = await peer.sm.encrypt(frozenset(readable), {NS: body.encode("utf-8")})
    message = next(iter(messages))
    stanza.append(oldmemo.etree.serialize_message(message))
    stanza["body"] = FALLBACK_BODY
    stanza.append(ET.Element("{urn:xmpp:hints}store"))
    stanza.append(ET.Element("{urn:xmpp:eme:0}encryption", {"namespace": NS, "name": "OMEMO"}))
    peer.muc_sent[msg_id] = body
    stanza.send()
    return {
        "event": "sent", "id": msg_id, "to": room, "groupchat": True, "recipients": readable,
        "without_devices": sorted(set(jids) - set(readable)),
        "rids": sorted(k.device_id for k, _ in message.keys),
        "errors": [f"{e.bare_jid}/{e.device_id}: {type(e.exception).__name__}" for e in errors],
    }


async def decrypt_groupchat(peer: Any, room: str, nick: str, xml: ET.Element, emit: Emit,
                            extra: Dict[str, Any]) -> None:
    own_nick = peer["xep_0045"].get_our_jid_in_room(room)
    own_nick = own_nick.split("/", 1)[1] if own_nick and "/" in own_nick else own_nick
    msg_id = xml.get("id")
    origin = xml.find(f"{{{NS_SID}}}origin-id")
    ids = [i for i in (origin.get("id") if origin is not None else None, msg_id) if i]
    common = {"groupchat": True, "room": room, "nick": nick, "id": ids[0] if ids else None, **extra}
    kept = next((peer.muc_sent[i] for i in ids if i in peer.muc_sent), None)
    encrypted = xml.find(f"{{{NS}}}encrypted")
    real = _real_jid_of(peer, room, nick, xml)
    if encrypted is None:
        body = xml.findtext("{jabber:client}body")
        if body is not None:
            emit({"event": "message", "from": real, "body": body, "encrypted": False, **common})
        return
    if kept is not None and nick == own_nick:
        emit({"event": "message", "from": peer.boundjid.bare, "body": kept, "encrypted": True, "own": True, **common})
        return
    if real is None:
        emit({"event": "decrypt_error", "error": f"real JID of {nick} unknown", "type": "UnknownSender", **common})
        return
    try:
        async with peer.omemo_lock:
            message = await oldmemo.etree.parse_message(encrypted, real, peer.boundjid.bare, peer.sm)
            plaintext, device, _ = await peer.sm.decrypt(message)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        emit({"event": "decrypt_error", "from": real, "type": type(e).__name__, "error": str(e) or repr(e), **common})
        return
    if plaintext is None:
        emit({"event": "empty", "from": real, **common})
        return
    emit({"event": "message", "from": real, "body": plaintext.decode("utf-8", errors="replace"),
          "encrypted": True, "sender_device": device.device_id,
          "fingerprint": xeddsa.ed25519_pub_to_curve25519_pub(device.identity_key).hex(), **common})


async def on_groupchat(peer: Any, msg: Any, emit: Emit) -> None:
    room = msg["from"].bare
    nick = msg["from"].resource
    if not nick or msg.xml.find("{jabber:client}subject") is not None and msg["body"] == "":
        return
    await decrypt_groupchat(peer, room, nick, msg.xml, emit, {})


async def muc_mam(peer: Any, room: str, emit: Emit) -> int:
    qid = uuid.uuid4().hex
    peer.muc_mam_results[qid] = []
    iq = peer.make_iq_set(ito=room)
    query = ET.Element(f"{{{NS_MAM}}}query", {"queryid": qid})
    iq.append(query)
    try:
        await iq.send(timeout=30)
        results = peer.muc_mam_results[qid]
    finally:
        peer.muc_mam_results.pop(qid, None)
    for frm, inner, stamp in results:
        if frm != room:
            continue  # only the room's own archive is believed
        sender = inner.get("from", "")
        if "/" not in sender:
            continue
        await decrypt_groupchat(peer, room, sender.split("/", 1)[1], inner, emit, {"archived": True, "stamp": stamp})
    return len(results)


async def handle_command(peer: Any, name: str, cmd: Dict[str, Any], tag: Dict[str, Any], emit: Emit) -> bool:
    if name == "muc_join":
        room, nick = str(cmd["room"]), str(cmd["nick"])
        await peer["xep_0045"].join_muc_wait(room, nick, maxstanzas=int(cmd.get("history", 0)), timeout=20)
        emit({"event": "joined", "room": room, "nick": nick, **tag})
    elif name == "muc_create":
        # Creates a room with the server's default configuration (semi-anonymous in Prosody).
        room, nick = str(cmd["room"]), str(cmd["nick"])
        await peer["xep_0045"].join_muc_wait(room, nick, maxstanzas=0, timeout=20)
        form = peer["xep_0004"].make_form(ftype="submit")
        await peer["xep_0045"].set_room_config(room, form)
        emit({"event": "joined", "room": room, "nick": nick, **tag})
    elif name == "muc_leave":
        room = str(cmd["room"])
        peer["xep_0045"].leave_muc(room, peer["xep_0045"].get_our_jid_in_room(room).split("/", 1)[1])
        emit({"event": "ok", **tag})
    elif name == "muc_send":
        emit({**await muc_send(peer, cmd), **tag})
    elif name == "muc_members":
        emit({"event": "members", "jids": await members(peer, str(cmd["room"])), **tag})
    elif name == "muc_mam":
        n = await muc_mam(peer, str(cmd["room"]), emit)
        emit({"event": "mam_done", "count": n, **tag})
    else:
        return False
    return True
