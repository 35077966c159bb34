"""The Sandbox object: its arguments, its repr, and what it gives callers."""

from __future__ import annotations

import pytest

from catena_nb.sandbox import Sandbox


def test_repr_hides_secrets(sb: Sandbox) -> None:
    """The sandbox's repr shows its URL and seed, never the client secret or the token."""
    text = repr(sb)
    assert sb.url in text
    assert "seed=7" in text
    assert sb.client_secret not in text
    assert sb.token not in text
    assert sb.client_secret not in repr(sb.state)
    assert sb.client_secret not in repr(sb.requests)


def test_history_needs_anchor() -> None:
    """history= without anchor= is a ValueError that says how to fix it."""
    with pytest.raises(ValueError, match="anchor"):
        Sandbox(history=3)
