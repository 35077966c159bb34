"""The simulated TSPs' error texts vary as real ones do (ids, values, URLs, codes) and decide nothing."""

from __future__ import annotations

import collections
import json

from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.outcomes import Conditions, decide, draw
from catena_nb.sandbox.sim.profiles import PROFILES
from catena_nb.sandbox.sim.world import build_world


def _failures(slug: str, count: int = 3000, conditions: Conditions | None = None) -> list[str]:
    outs = [
        decide(PROFILES[slug], draw(3, f"t{i}", 1), text="hi", conditions=conditions) for i in range(count)
    ]
    return [o.error_details or "" for o in outs if not o.ok and o.response_status_code is not None]


def _body(text: str) -> dict[str, object]:
    body = json.loads(text.split("\nResponse: ", 1)[1])
    assert isinstance(body, dict)
    return body


def test_the_same_call_gives_the_same_text() -> None:
    """A text is a function of the seed, the call and the attempt."""
    assert _failures("motive", 500) == _failures("motive", 500)


def test_texts_carry_request_ids_in_each_tsps_style() -> None:
    """Each TSP answers in its own body style with an id per call, so one cause shows under many texts."""
    keys = {
        "samsara": "requestId",
        "motive": "request_id",
        "omnitracs": "correlationId",
        "geotab": "requestIndex",
    }
    for slug, key in keys.items():
        texts = _failures(slug)
        assert texts, slug
        assert all(key in _body(t) for t in texts), slug
        assert len(set(texts)) > 0.5 * len(texts), slug
    for text in _failures("omnitracs"):
        status = text.split("'")[1][:3]  # "Client error '422 Unprocessable Entity' ..."
        assert str(_body(text)["errorCode"]).startswith(f"OMN-{status}")


def test_urls_and_reasons_name_drivers_and_users() -> None:
    """Omnitracs posts to the driver's path, Motive names the driver in the query; validation reasons and
    403s name the driver or user."""
    assert all("/messaging/v1/drivers/" in t for t in _failures("omnitracs"))
    assert all("messages?driver_id=" in t for t in _failures("motive"))
    reasons = [str(_body(t)["message"]) for t in _failures("samsara", 20_000) if "422" in t or "403" in t]
    assert any(r.startswith("recipient driver ") and r.split()[2].isdigit() for r in reasons)
    assert any(r.startswith("user ") and r.split()[1].isdigit() for r in reasons)


def test_an_expired_credential_says_so() -> None:
    """Every call under a credential expiry is a 401 whose body says the token expired."""
    texts = _failures("geotab", 50, Conditions(auth_expired=True))
    assert len(texts) == 50
    assert all("Unauthorized: token expired" in t and "'401 Unauthorized'" in t for t in texts)


def test_the_default_history_keeps_its_counts() -> None:
    """Two days of the seed-7 history: the same operations, failures and error types as with fixed texts."""
    hist = generate_history(build_world(7), 7, 2, "2026-11-01")
    assert len(hist.operations) == 2131
    assert sum(o["status"] == "failed" for o in hist.operations) == 72
    logs = [log for o in hist.operations for log in o["logs"]]
    assert len(logs) == 2215
    errors = collections.Counter(log.get("error_type") for log in logs if log.get("error_type"))
    assert errors == {"network": 56, "tsp": 48, "validation": 47, "auth": 5}
