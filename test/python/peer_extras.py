"""Message extras for the reference peer (peer.py): delivery receipts (XEP-0184), chat states
(XEP-0085), corrections (XEP-0308), retractions (XEP-0424) and origin-ids (XEP-0359).

peer.py reports them on its events and lets commands add them to outgoing stanzas; answering
receipt requests is left to slixmpp's xep_0184 plugin (auto_ack).
"""

import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict, List

NS_RECEIPTS = "urn:xmpp:receipts"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_CORRECT = "urn:xmpp:message-correct:0"
NS_FASTEN = "urn:xmpp:fasten:0"
NS_RETRACT0 = "urn:xmpp:message-retract:0"
NS_RETRACT1 = "urn:xmpp:message-retract:1"
NS_SID = "urn:xmpp:sid:0"
NS_HINTS = "urn:xmpp:hints"
CHAT_STATES = ("active", "composing", "paused", "inactive", "gone")


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def extras_of(xml: ET.Element) -> Dict[str, Any]:
    """Fields to merge into a message event: replace_id, retract_id, origin_id, receipt_request."""
    out: Dict[str, Any] = {}
    replace = xml.find(_q(NS_CORRECT, "replace"))
    if replace is not None and replace.get("id"):
        out["replace_id"] = replace.get("id")
    r1 = xml.find(_q(NS_RETRACT1, "retract"))
    apply_to = xml.find(_q(NS_FASTEN, "apply-to"))
    if r1 is not None and r1.get("id"):
        out["retract_id"] = r1.get("id")
    elif apply_to is not None and apply_to.find(_q(NS_RETRACT0, "retract")) is not None:
        out["retract_id"] = apply_to.get("id")
    if apply_to is not None and apply_to.find(_q(NS_RETRACT0, "retract")) is not None:
        out["retract0_id"] = apply_to.get("id")
    origin = xml.find(_q(NS_SID, "origin-id"))
    if origin is not None and origin.get("id"):
        out["origin_id"] = origin.get("id")
    if xml.find(_q(NS_RECEIPTS, "request")) is not None:
        out["receipt_request"] = True
    state = chat_state_of(xml)
    if state:
        out["chatstate"] = state
    return out


def chat_state_of(xml: ET.Element) -> str:
    for name in CHAT_STATES:
        if xml.find(_q(NS_CHATSTATES, name)) is not None:
            return name
    return ""


def signal_events(xml: ET.Element, sender: str) -> List[Dict[str, Any]]:
    """Receipt and chat-state events for any incoming message (with or without a body)."""
    events: List[Dict[str, Any]] = []
    received = xml.find(_q(NS_RECEIPTS, "received"))
    if received is not None:
        events.append({"event": "receipt", "from": sender, "id": received.get("id")})
    state = chat_state_of(xml)
    if state:
        events.append({"event": "chatstate", "from": sender, "state": state})
    return events


def decorate(xml: ET.Element, cmd: Dict[str, Any]) -> None:
    """Adds the extras a send command asks for (outside any <encrypted/>)."""
    if cmd.get("request_receipt"):
        xml.append(ET.Element(_q(NS_RECEIPTS, "request")))
    if cmd.get("origin_id"):
        xml.append(ET.Element(_q(NS_SID, "origin-id"), {"id": str(cmd["origin_id"])}))
    if cmd.get("replace_id"):
        xml.append(ET.Element(_q(NS_CORRECT, "replace"), {"id": str(cmd["replace_id"])}))
    if cmd.get("retract_id"):
        apply_to = ET.SubElement(xml, _q(NS_FASTEN, "apply-to"), {"id": str(cmd["retract_id"])})
        ET.SubElement(apply_to, _q(NS_RETRACT0, "retract"))
    if cmd.get("chatstate"):
        xml.append(ET.Element(_q(NS_CHATSTATES, str(cmd["chatstate"]))))


async def handle_command(peer: Any, name: str, cmd: Dict[str, Any], tag: Dict[str, Any],
                         emit: Callable[[Dict[str, Any]], None]) -> bool:
    """Extra peer commands; returns False for names it does not know."""
    if name == "chatstate":
        # A standalone chat state, as clients send while typing.
        stanza = peer.make_message(mto=cmd["to"], mtype="chat")
        stanza["id"] = peer.new_id()
        decorate(stanza.xml, {"chatstate": cmd["state"]})
        stanza.xml.append(ET.Element(_q(NS_HINTS, "no-store")))
        stanza.send()
        emit({"event": "ok", **tag})
        return True
    return False
