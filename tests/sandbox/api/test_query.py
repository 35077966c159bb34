"""What the telematics lists read: each "any of" filter tests its record field; one order is offered."""

from __future__ import annotations

import uuid

import pytest

from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.query import DirectMessageQuery, GroupMessageQuery, UserQuery, all_of


def test_each_any_of_filter_tests_its_record_field():
    """Given values keep the records whose field is one of them; absent filters test nothing."""
    sender = uuid.uuid4()
    query = DirectMessageQuery(sender_ids=[sender], source_recipient_ids=["7", "8"])
    test = all_of(query.tests())
    assert test is not None
    assert test({"sender_id": str(sender), "source_recipient_id": "8"})
    assert not test({"sender_id": str(sender), "source_recipient_id": "9"})
    assert not test({"source_recipient_id": "7"})
    assert all_of(GroupMessageQuery().tests()) is None
    users = all_of(UserQuery(user_ids=[sender]).tests())
    assert users is not None
    assert users({"id": str(sender)})


def test_only_the_lists_own_order_can_be_asked_for():
    """sort_by may name the list's own order field only; sort_order desc pages newest first."""
    assert DirectMessageQuery(sort_by="occurred_at", sort_order="desc").descending("occurred_at")
    assert not UserQuery().descending("created_at")
    with pytest.raises(APIError) as err:
        UserQuery(sort_by="username").descending("created_at")
    assert err.value.status == 422
    assert err.value.detail[0]["path"] == "query.sort_by"
