"""The client suite runs once per client: `drive(api, **kw)` gives a `Driver` of the sync or the async one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.client_mock import BASE_URL, MockAPI
from tests.support.drivers import KINDS, Driver

MakeDriver = Callable[..., Driver]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """`"sync"` or `"async"`: which client the test drives."""
    kind: str = request.param
    return kind


@pytest.fixture
def drive(kind: str) -> Iterator[MakeDriver]:
    """A factory of drivers of this test's client on a scripted API (a static token unless told otherwise),
    closed after the test."""
    made: list[Driver] = []

    def make(api: MockAPI, **kw: Any) -> Driver:
        settings: dict[str, Any] = {"base_url": BASE_URL, "progress": False, **kw}
        if not {"token", "client_id", "client_secret"} & set(kw):
            settings["token"] = "tok"
        driver = Driver(kind, transport=api.transport(), **settings)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()
