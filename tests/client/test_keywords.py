"""Keyword arguments declared once as a TypedDict: shown in each method's signature, checked like one."""

from __future__ import annotations

import inspect

import pytest

from tests.client.conftest import MakeDriver
from tests.support.client_mock import MockAPI, row

EMPTY = inspect.Parameter.empty


def test_every_filter_shows_in_the_signature(drive: MakeDriver) -> None:
    """help() and Jupyter see each filter of a listing, with its default, on both clients."""
    c = drive(MockAPI()).client
    listing = inspect.signature(c.operations.list).parameters
    assert list(listing) == [
        "resource",
        "connection_id",
        "source_name",
        "fleet_refs",
        "operation",
        "source_id",
        "since",
        "until",
        "status",
        "concurrency",
        "progress",
        "size",
    ]
    assert listing["size"].default == 1000
    assert listing["concurrency"].default == 8
    assert listing["status"].default is None
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in listing.values())
    messages = inspect.signature(c.messages.list).parameters
    assert {"sender_ids", "recipient_ids", "source_recipient_ids", "sort_order", "fleet_ids"} <= set(messages)
    users = inspect.signature(c.users.list).parameters
    assert {"connection_id", "is_driver", "user_ids", "source_ids", "size"} <= set(users)


def test_required_fields_show_without_a_default(drive: MakeDriver) -> None:
    """A send's required fields have no default in its signature; the optional ones default to None."""
    c = drive(MockAPI()).client
    create = inspect.signature(c.messages.create).parameters
    assert [n for n, p in create.items() if p.default is EMPTY] == [
        "connection_id",
        "sender_id",
        "recipient_id",
    ]
    assert create["sync"].default is False
    assert create["priority"].default is None
    many = inspect.signature(c.messages.create_many).parameters
    assert many["concurrency"].default == 8
    assert many["on_invalid"].default == "report"
    wait = inspect.signature(c.operations.wait).parameters
    assert (wait["timeout"].default, wait["poll_interval"].default) == (120.0, 1.0)


def test_an_unknown_keyword_is_a_type_error_before_any_io(drive: MakeDriver) -> None:
    """A misspelt filter raises Python's own TypeError at the call, as a spelled-out signature would."""
    api = MockAPI()
    d = drive(api)
    with pytest.raises(TypeError, match=r"Operations\.list\(\) got an unexpected keyword argument 'sinse'"):
        d(lambda c: c.operations.list(sinse="2026-01-01"))
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        d(lambda c: c.messages.create(**row(), colour="red"))
    assert api.requests == []


def test_a_missing_required_field_is_a_type_error(drive: MakeDriver) -> None:
    """A send without its recipient raises TypeError naming it, before anything is sent."""
    api = MockAPI()
    fields = row()
    del fields["recipient_id"]
    with pytest.raises(TypeError, match="missing 1 required keyword argument: 'recipient_id'"):
        drive(api)(lambda c: c.messages.create(**fields))
    assert api.requests == []
