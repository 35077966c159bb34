"""Just enough of CatenaClient for the widgets, in memory: two connections, their users, operations."""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace
from typing import Any

from catena_nb.errors import NotFoundError
from catena_nb.models import Connection, MessageCreate, ResourceOperation, User

T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)


def uid(n: int) -> str:
    """The UUID numbered ``n``."""
    return str(uuid.UUID(int=n))


class FakeClient:
    """Just enough of CatenaClient: two connections with two users each; records every call."""

    def __init__(self, n_ops: int = 45) -> None:
        self.conns = [
            Connection(id=uid(1), source_name="samsara", description="North fleet"),
            Connection(id=uid(2), source_name="motive", description="South fleet"),
        ]
        self.user_records = {
            uid(1): [
                User(id=uid(11), first_name="Ana", last_name="Ruiz", is_driver=True),
                User(id=uid(12), first_name="Bo", last_name="Lind", is_driver=False),
            ],
            uid(2): [
                User(id=uid(21), first_name="Cy", last_name="Ode", is_driver=True),
                User(id=uid(22), first_name="Di", last_name="Ma", is_driver=False),
            ],
        }
        self.creates: list[dict[str, Any]] = []
        self.list_calls: list[dict[str, Any]] = []
        self.ops = [self._op(i) for i in range(n_ops)]
        self.connections = SimpleNamespace(list=lambda: list(self.conns))
        self.users = SimpleNamespace(list=lambda connection_id: list(self.user_records[connection_id]))
        self.messages = SimpleNamespace(create=self._create)
        self.operations = SimpleNamespace(get=self._get, list=self._list)
        self.fail_next: Exception | None = None

    def _op(self, i: int) -> ResourceOperation:
        failed = i % 3 == 0
        log = {
            "id": uid(1000 + i),
            "created_at": T0 + dt.timedelta(hours=2 * i),
            "status": "failed" if failed else "success",
            "error_type": "tsp" if failed else None,
            "error_details": "TSP said <b>no</b>" if failed else None,
            "response_status_code": 400 if failed else 200,
        }
        return ResourceOperation.model_validate(
            {
                "id": uid(500 + i),
                "created_at": T0 + dt.timedelta(hours=2 * i),
                "updated_at": T0 + dt.timedelta(hours=2 * i, seconds=2),
                "connection_id": self.conns[i % 2].id,
                "source_name": self.conns[i % 2].source_name,
                "resource": "message",
                "operation_type": "create",
                "payload": {"message_text": f"text {i}"},
                "status": "failed" if failed else "success",
                "logs": [log],
            }
        )

    def _create(self, *, sync: bool, **fields: Any) -> ResourceOperation:
        body = MessageCreate.build(**fields)  # the real client validates before any I/O, like this
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        self.creates.append(body.to_json())
        text = body.message_text or ""
        failed = "fail" in text
        status = "failed" if failed else ("success" if sync else "pending")
        logs = []
        if sync:
            logs = [
                {
                    "id": uid(9000 + len(self.creates)),
                    "created_at": T0,
                    "status": status,
                    "error_type": "validation" if failed else None,
                    "error_details": f"text rejected: {text}" if failed else None,
                    "response_status_code": 422 if failed else 200,
                }
            ]
        return ResourceOperation.model_validate(
            {
                "id": uid(8000 + len(self.creates)),
                "connection_id": body.connection_id,
                "resource": "message",
                "operation_type": "create",
                "payload": body.to_json(),
                "status": status,
                "logs": logs,
            }
        )

    def _get(self, op_id: str, *, connection_id: str) -> ResourceOperation:
        for op in self.ops:
            if op.id == op_id and op.connection_id == connection_id:
                return op
        raise NotFoundError(status_code=404, body='{"code": 404, "message": "Not Found", "detail": null}')

    def _list(self, **kwargs: Any) -> list[ResourceOperation]:
        self.list_calls.append(kwargs)
        ops = self.ops
        if "status" in kwargs:
            ops = [op for op in ops if op.status == kwargs["status"]]
        if "connection_id" in kwargs:
            ops = [op for op in ops if op.connection_id == kwargs["connection_id"]]
        return ops
