"""Wire models: both operation shapes, open enums, UTC datetimes, request validation."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from catena_nb.errors import InvalidRequestError
from catena_nb.models import (
    Connection,
    ErrorType,
    GroupMessageCreate,
    Message,
    MessageCreate,
    MessageStatus,
    OperationLog,
    OperationStatus,
    Priority,
    Resource,
    ResourceOperation,
    User,
)
from tests.support.client_mock import CONN, FAILED_OP, RECIPIENT, SENDER, SUCCESS_OP, op


def test_write_shape_of_the_seed_page_parses() -> None:
    """The seed page's 502 body parses, with typed enums and the failed log as `last_error`."""
    parsed = ResourceOperation.model_validate(FAILED_OP)
    assert parsed.status is OperationStatus.FAILED
    assert parsed.failed
    assert not parsed.succeeded
    assert not parsed.pending
    assert parsed.resource is Resource.MESSAGE
    assert parsed.attempts == 1
    assert parsed.last_error is not None
    assert parsed.last_error.error_type is ErrorType.AUTH
    assert parsed.error_type == "auth"
    assert parsed.deleted_at is None
    assert parsed.source_name is None


def test_lookup_shape_parses_into_the_same_model() -> None:
    """The lookup shape (source_name, fleet_ref, no deleted_at) parses into the same model."""
    parsed = ResourceOperation.model_validate(op("success"))
    assert parsed.source_name == "samsara"
    assert parsed.fleet_ref == "F1"
    assert parsed.succeeded
    assert parsed.last_error is None


def test_unknown_enum_values_and_fields_are_kept() -> None:
    """Unknown enum values stay plain strings and unknown fields are kept, never failing validation."""
    data = op(
        "retrying",
        resource="spaceship",
        operation_type="delete",
        new_field={"x": 1},
        logs=[{"status": "partial", "error_type": "quota", "extra_log_field": 3}],
    )
    parsed = ResourceOperation.model_validate(data)
    assert parsed.status == "retrying"
    assert type(parsed.status) is str
    assert parsed.resource == "spaceship"
    assert parsed.operation_type == "delete"
    assert parsed.logs[0].error_type == "quota"
    assert parsed.model_extra == {"new_field": {"x": 1}}
    assert parsed.model_dump(mode="json")["status"] == "retrying"


def test_known_values_become_enum_members() -> None:
    """Known values become StrEnum members that still compare equal to their strings."""
    parsed = ResourceOperation.model_validate(op("pending"))
    assert parsed.status is OperationStatus.PENDING
    status: object = parsed.status
    assert status == "pending"


def test_datetimes_are_aware_utc() -> None:
    """Timestamps with an offset, a Z or none at all all become aware UTC datetimes."""
    parsed = ResourceOperation.model_validate(
        op(
            created_at="2026-05-04T10:51:01+02:00",
            updated_at="2026-05-04T08:51:01",
            logs=[{"status": "success", "created_at": "2026-05-04T08:51:01.5Z"}],
        )
    )
    assert parsed.created_at == dt.datetime(2026, 5, 4, 8, 51, 1, tzinfo=dt.UTC)
    assert parsed.created_at is not None
    assert parsed.created_at.tzinfo is dt.UTC
    assert parsed.updated_at is not None
    assert parsed.updated_at.tzinfo is dt.UTC
    assert parsed.logs[0].created_at is not None
    assert parsed.logs[0].created_at.tzinfo is dt.UTC


def test_null_logs_and_payload_become_empty() -> None:
    """`logs: null` and `payload: null` become an empty list and an empty dict."""
    parsed = ResourceOperation.model_validate(op(logs=None, payload=None))
    assert parsed.logs == []
    assert parsed.payload == {}


def test_last_error_follows_created_at_not_wire_order() -> None:
    """`last_error` is the latest failed attempt by time, whatever order the logs came in."""
    logs = [
        {"id": "b", "status": "failed", "error_type": "tsp", "created_at": "2026-05-04T09:00:02Z"},
        {"id": "a", "status": "failed", "error_type": "network", "created_at": "2026-05-04T09:00:01Z"},
        {"id": "c", "status": "success", "created_at": "2026-05-04T09:00:03Z"},
    ]
    parsed = ResourceOperation.model_validate(op(logs=logs))
    assert [log.id for log in parsed.sorted_logs] == ["a", "b", "c"]
    assert parsed.last_error is not None
    assert parsed.last_error.id == "b"


def test_repr_is_short_and_html_is_escaped() -> None:
    """The repr is one short line; the HTML repr escapes every value."""
    parsed = ResourceOperation.model_validate(
        op("failed", logs=[{"status": "failed", "error_details": "<script>alert(1)</script>"}])
    )
    assert "\n" not in repr(parsed)
    assert len(repr(parsed)) < 200
    html = parsed._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert repr(OperationLog(status="success")).startswith("OperationLog(")


def test_message_user_connection_models() -> None:
    """Messages, users and connections parse with open status values and extra fields."""
    msg = Message.model_validate(
        {"id": "m1", "status": "read", "read_at": "2026-05-04T09:00:00Z", "fleet_id": None, "brand_new": 1}
    )
    assert msg.status is MessageStatus.READ
    assert msg.read_at is not None
    assert Message.model_validate({"id": "m2", "status": "bounced"}).status == "bounced"
    assert User.model_validate({"id": "u", "first_name": "A", "is_driver": True}).is_driver is True
    assert Connection.model_validate({"id": "c", "source_name": "new_tsp_2027"}).source_name == "new_tsp_2027"


def test_message_create_accepts_a_good_request() -> None:
    """A good request validates; UUIDs are normalised and unset optionals are left out of the body."""
    req = MessageCreate.build(
        connection_id=uuid.UUID(CONN), sender_id=SENDER.upper(), recipient_id=RECIPIENT, priority="high"
    )
    assert req.to_json() == {
        "connection_id": CONN,
        "sender_id": SENDER,
        "recipient_id": RECIPIENT,
        "priority": "high",
    }
    assert req.priority is Priority.HIGH


def test_message_create_names_every_bad_field() -> None:
    """Every bad field is named in one InvalidRequestError, which is also a ValueError."""
    with pytest.raises(InvalidRequestError) as info:
        MessageCreate.build(
            connection_id="not-a-uuid", sender_id=5, priority="urgent", message_text=42, colour="red"
        )
    err = info.value
    assert isinstance(err, ValueError)
    assert set(err.fields) == {
        "connection_id",
        "sender_id",
        "recipient_id",
        "priority",
        "message_text",
        "colour",
    }
    for field in err.fields:
        assert field in str(err)
    assert all({"field", "message", "input"} <= set(e) for e in err.errors)


def test_group_message_create_validates_recipients() -> None:
    """Group messages need at least one recipient, each a UUID."""
    with pytest.raises(InvalidRequestError) as info:
        GroupMessageCreate.build(connection_id=CONN, sender_id=SENDER, recipient_ids=[])
    assert info.value.fields == ["recipient_ids"]
    with pytest.raises(InvalidRequestError) as info:
        GroupMessageCreate.build(connection_id=CONN, sender_id=SENDER, recipient_ids=[RECIPIENT, "nope"])
    assert info.value.fields == ["recipient_ids.1"]


def test_success_example_round_trips() -> None:
    """The seed page's 200 body survives a dump and a re-parse."""
    parsed = ResourceOperation.model_validate(SUCCESS_OP)
    again = ResourceOperation.model_validate_json(parsed.model_dump_json())
    assert again == parsed
    assert again.resource_id == SUCCESS_OP["resource_id"]
