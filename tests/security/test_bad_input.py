"""Bad input to every public function that sends or parses: a clear error naming the problem, nothing sent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catena_nb as cn
from catena_nb.client import CatenaClient
from catena_nb.errors import InvalidRequestError, WebhookParseError, WebhookVerificationError
from catena_nb.sandbox import Sandbox
from catena_nb.webhooks import sign, verify
from tests.support.rounds import client_for

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _not_a_uuid(value: Any) -> bool:
    if isinstance(value, uuid.UUID):
        return False
    try:
        uuid.UUID(str(value).strip())
    except ValueError:
        return True
    return False


# Anything an analyst could paste or a cell could compute by mistake.
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.binary(max_size=20),
    st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
bad_uuid = junk.filter(lambda v: v is not None and _not_a_uuid(v))
# a single value, or a list with at least one bad entry: both must be refused for a list of UUIDs
bad_uuids = st.one_of(
    st.integers(),
    st.floats(),
    st.booleans(),
    st.text(min_size=1, max_size=20).filter(_not_a_uuid),
    st.lists(st.text(max_size=8).filter(_not_a_uuid), min_size=1, max_size=3),
)
bad_when = st.one_of(
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=20).filter(lambda s: not _parses_as_time(s)),
)
bad_size = st.one_of(
    st.integers().filter(lambda n: not 1 <= n <= 1000),
    st.floats(),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
)


def _parses_as_time(text: str) -> bool:
    import datetime as dt

    try:
        dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(seed=3, time_scale=0.001, tsp_latency=0) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(sb: Sandbox) -> Iterator[CatenaClient]:
    with client_for(sb) as c:
        yield c


def _refused(call: Any, field: str) -> InvalidRequestError:
    """The call raises InvalidRequestError naming ``field`` (and saying nothing was sent)."""
    with pytest.raises(InvalidRequestError) as info:
        call()
    error = info.value
    assert any(f == field or f.startswith((field + "[", field + ".")) for f in error.fields), error.fields
    assert field in str(error)
    assert "nothing was sent" in str(error)
    return error


@SETTINGS
@given(
    name=st.sampled_from(
        ["connection_id", "sender_id", "recipient_ids", "priority", "message_text", "extra"]
    ),
    value=junk,
)
def test_group_message_create_refuses_bad_fields_before_sending(
    sb: Sandbox, client: CatenaClient, name: str, value: Any
) -> None:
    """A group message with one bad field raises InvalidRequestError naming it; no request is sent."""
    conn = sb.connections[0]
    fields: dict[str, Any] = {
        "connection_id": conn.id,
        "sender_id": conn.users[0],
        "recipient_ids": [conn.users[1]],
        "message_text": "hello",
        "priority": "low",
    }
    if name in ("connection_id", "sender_id") and not _not_a_uuid(value):
        value = "not-a-uuid"
    if name == "recipient_ids" and isinstance(value, list) and value and not any(map(_not_a_uuid, value)):
        value = ["nope"]
    if name == "priority" and value in ("low", "medium", "high", None):
        value = "urgent"
    if name == "message_text" and (value is None or isinstance(value, str)):
        value = 12
    fields[name] = value
    before = sb.requests.total()
    if name == "extra":  # Python itself refuses an unknown keyword, naming it
        with pytest.raises(TypeError, match="extra"):
            client.group_messages.create(**fields, sync=True)
    else:
        _refused(lambda: client.group_messages.create(**fields, sync=True), name)
    assert sb.requests.total() == before


@SETTINGS
@given(which=st.sampled_from(["id", "connection_id"]), value=bad_uuid)
def test_operation_lookup_refuses_bad_ids(sb: Sandbox, client: CatenaClient, which: str, value: Any) -> None:
    """`operations.get` and `connections.get` with a bad id name it and send nothing."""
    good = str(uuid.uuid4())
    before = sb.requests.total()
    if which == "id":
        _refused(lambda: client.operations.get(value, connection_id=good), "id")
    else:
        _refused(lambda: client.operations.get(good, connection_id=value), "connection_id")
        _refused(lambda: client.connections.get(value), "connection_id")
    assert sb.requests.total() == before


LISTINGS: dict[str, tuple[str, ...]] = {
    "operations": ("connection_id", "operation", "since", "until", "size"),
    "messages": ("connection_id", "since", "fleet_ids", "sender_ids", "recipient_ids", "sort_order", "size"),
    "group_messages": ("connection_id", "until", "fleet_ids", "sender_ids", "group_ids", "size"),
    "users": ("connection_id", "fleet_ids", "user_ids", "size"),
    "connections": ("fleet_ids", "size"),
}


@st.composite
def bad_listing(draw: st.DrawFn) -> tuple[str, str, Any]:
    """A listing, one of its arguments, and a value that argument must refuse."""
    listing = draw(st.sampled_from(sorted(LISTINGS)))
    arg = draw(st.sampled_from(LISTINGS[listing]))
    if arg == "connection_id":
        value = draw(bad_uuid)
    elif arg.endswith("_ids"):
        value = draw(bad_uuids)
    elif arg in ("since", "until"):
        value = draw(bad_when)
    elif arg == "size":
        value = draw(bad_size)
    else:  # operation, sort_order: closed choices
        value = draw(
            st.text(max_size=8).filter(lambda s: s not in ("create", "update", "delete", "asc", "desc"))
        )
    return listing, arg, value


@SETTINGS
@given(case=bad_listing())
def test_listings_refuse_bad_arguments_before_any_request(
    sb: Sandbox, client: CatenaClient, case: tuple[str, str, Any]
) -> None:
    """Every listing refuses a bad argument at once with InvalidRequestError naming it; nothing is sent."""
    listing, arg, value = case
    before = sb.requests.total()
    namespace = getattr(client, listing)
    _refused(lambda: namespace.list(**{arg: value}), arg)
    assert sb.requests.total() == before


@SETTINGS
@given(
    rows=st.one_of(st.integers(), st.floats(), st.text(min_size=1, max_size=10), st.lists(junk, min_size=1))
)
def test_create_many_refuses_rows_that_are_not_records(sb: Sandbox, client: CatenaClient, rows: Any) -> None:
    """`create_many` given something that is not a list of records raises InvalidRequestError on `rows`."""
    before = sb.requests.total()
    if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
        batch = client.messages.create_many(rows)  # records, just bad ones: each an invalid outcome
        assert batch.counts["invalid"] == len(rows)
    else:
        _refused(lambda: client.messages.create_many(rows), "rows")
    assert sb.requests.total() == before


@SETTINGS
@given(items=st.lists(junk, min_size=1, max_size=4))
def test_wait_refuses_what_is_not_an_operation(sb: Sandbox, client: CatenaClient, items: list[Any]) -> None:
    """`operations.wait` on values that are not operations names each bad position and polls nothing."""
    before = sb.requests.total()
    _refused(lambda: client.operations.wait(items, timeout=1), "ops")
    assert sb.requests.total() == before


@SETTINGS
@given(
    body=st.one_of(st.binary(max_size=200), st.binary(max_size=20).map(lambda b: b"\x1f\x8b" + b)),
    signature=st.text(max_size=60),
    stamp=st.text(max_size=40),
)
def test_webhook_verify_refuses_garbage_with_its_own_error(body: bytes, signature: str, stamp: str) -> None:
    """`webhooks.verify` on arbitrary bytes and headers raises WebhookVerificationError and nothing else."""
    headers = {"X-Catena-Signature": signature, "X-Catena-Timestamp": stamp, "Content-Encoding": "gzip"}
    with pytest.raises(WebhookVerificationError) as info:
        verify(body, headers, "whsec-bad-input")
    assert str(info.value)


envelope_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@SETTINGS
@given(
    payload=st.one_of(
        st.binary(max_size=100),
        envelope_junk.map(lambda v: __import__("json").dumps(v)),
        st.fixed_dictionaries(
            {
                "event_name": st.sampled_from(["resource_operation.failed", "message.added"]),
                "data": envelope_junk,
            }
        ),
    )
)
def test_webhook_parse_refuses_garbage_with_its_own_error(payload: Any) -> None:
    """`webhooks.parse` of any JSON or bytes returns an event or raises WebhookParseError, nothing else."""
    try:
        event = cn.webhooks.parse(payload)
    except WebhookParseError as exc:
        message = str(exc)
        assert message.startswith("the webhook payload")
    else:
        assert isinstance(event.data, list)


def test_signed_garbage_still_gets_a_parse_error() -> None:
    """A correctly signed delivery whose payload is not an envelope fails in parse, not in verify."""
    body, headers = sign(b'{"event_name": 5, "data": "x"}', "whsec-bad-input")
    payload = verify(body, headers, "whsec-bad-input")
    with pytest.raises(WebhookParseError, match="event_name"):
        cn.webhooks.parse(payload)
