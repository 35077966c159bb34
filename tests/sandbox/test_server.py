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


def test_a_client_secret_given_is_the_one_it_takes() -> None:
    """`client_secret=` is the secret a client must present; another is refused; an empty one is an error."""
    from catena_nb import CatenaClient
    from catena_nb.errors import AuthenticationError

    with Sandbox(client_secret="handed-over-secret") as sb:
        assert sb.client_secret == "handed-over-secret"
        assert "handed-over-secret" not in repr(sb)
        for secret, works in (("handed-over-secret", True), ("another", False)):
            with CatenaClient(
                base_url=sb.url,
                auth_url=sb.auth_url,
                client_id=sb.client_id,
                client_secret=secret,
                progress=False,
            ) as client:
                if works:
                    assert client.connections.list().to_list()
                else:
                    with pytest.raises(AuthenticationError):
                        client.connections.list().to_list()
    with pytest.raises(ValueError, match="client_secret"):
        Sandbox(client_secret="")
