"""Message requests with at least one bad field, for the tests that no bad request reaches a server."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

_uuid_like = st.uuids().map(str)
_bad_values = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(alphabet=string.ascii_letters + string.digits + "-", max_size=40),
    st.lists(st.integers(), max_size=2),
)


@st.composite
def malformed_requests(draw: st.DrawFn) -> dict[str, Any]:
    """Message requests with at least one bad field (bad UUID, unknown priority, wrong text type, unknown)."""
    fields: dict[str, Any] = {
        "connection_id": draw(_uuid_like),
        "sender_id": draw(_uuid_like),
        "recipient_id": draw(_uuid_like),
    }
    broken = draw(
        st.sampled_from(["connection_id", "sender_id", "recipient_id", "priority", "message_text", "extra"])
    )
    if broken in ("connection_id", "sender_id", "recipient_id"):
        fields[broken] = draw(_bad_values)
    elif broken == "priority":
        fields["priority"] = draw(
            st.one_of(st.integers(), st.text(max_size=10)).filter(
                lambda v: v not in ("low", "medium", "high")
            )
        )
    elif broken == "message_text":
        fields["message_text"] = draw(
            st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2), st.booleans())
        )
    else:
        fields[
            draw(
                st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=10).filter(
                    lambda k: k not in fields
                )
            )
        ] = 1
    return fields


FIELDS = ("connection_id", "sender_id", "recipient_id", "priority", "message_text")
