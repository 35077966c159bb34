"""The schemas of the OpenAPI document follow the bodies the routes write."""

from __future__ import annotations

import uuid

from catena_nb.sandbox.api.schemas import MessageCreate, ResourceOperation, ResourceOperationRead
from catena_nb.sandbox.sim.records import LOOKUP_KEYS, WRITE_KEYS


def test_the_operation_schemas_list_the_keys_of_the_two_shapes():
    """ResourceOperation has the write shape's keys, ResourceOperationRead the lookup shape's, in order."""
    assert tuple(ResourceOperation.model_fields) == WRITE_KEYS
    assert tuple(ResourceOperationRead.model_fields) == LOOKUP_KEYS
    assert ResourceOperation.__doc__


def test_request_bodies_ignore_unknown_fields():
    """A create body with a field the API does not know validates, without the field (the published
    MessageCreate does not forbid additional properties)."""
    body = {
        "connection_id": str(uuid.uuid4()),
        "sender_id": str(uuid.uuid4()),
        "recipient_id": str(uuid.uuid4()),
    }
    parsed = MessageCreate.model_validate({**body, "colour": "red"})
    assert "colour" not in parsed.model_dump()
