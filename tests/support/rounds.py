"""Helpers shared by the reliability and security tests: quick retries, rows to send, server-side counts."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from catena_nb.client import CatenaClient
from catena_nb.sandbox import Sandbox

MESSAGES = ("POST", "/v2/telematics/messages")
LIST_OPS = ("GET", "/v2/integrations/connections/resource-operations")
XSS = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def quick_sleep(seconds: float) -> None:
    """Retries still wait, a little: a test under faults takes no longer than it must."""
    time.sleep(min(seconds, 0.02))


def client_for(sb: Sandbox, **kw: Any) -> CatenaClient:
    """A client of the sandbox through OAuth client credentials, without progress bars."""
    kw.setdefault("sleep", quick_sleep)
    return CatenaClient(
        base_url=sb.url,
        client_id=sb.client_id,
        client_secret=sb.client_secret,
        auth_url=sb.auth_url,
        progress=False,
        **kw,
    )


def rows_for(sb: Sandbox, n: int, tag: str, conn_index: int = 0) -> list[dict[str, Any]]:
    """``n`` valid message rows on one connection, each with a text unique to the tag."""
    conn = sb.connections[conn_index]
    return [
        {
            "connection_id": conn.id,
            "sender_id": conn.dispatchers[0] if conn.dispatchers else conn.users[0],
            "recipient_id": conn.drivers[i % len(conn.drivers)] if conn.drivers else conn.users[1],
            "message_text": f"{tag} {i}",
            "priority": "low",
        }
        for i in range(n)
    ]


def server_texts(sb: Sandbox, tag: str) -> Counter[str]:
    """How many operations the server holds per message text carrying the tag."""
    return Counter(
        str(op["payload"].get("message_text"))
        for op in sb.state.iter_operations()
        if str((op.get("payload") or {}).get("message_text", "")).startswith(tag + " ")
    )
