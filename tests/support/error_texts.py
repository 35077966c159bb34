"""Error texts by cause, for the signature tests: the sandbox's own texts for each TSP profile, and the kinds
of varying texts real TSPs give (JSON error bodies with request ids, user ids, field values and URLs).

Each cause is a name and a function of a random generator that writes one text of that cause with fresh ids
and values. Shared by ``tests/analysis/test_signatures.py`` and ``scripts/settle_signatures_checks.py``.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable

from catena_nb.sandbox.sim import errortexts
from catena_nb.sandbox.sim.incidents import INCIDENT_TEXT_LIMIT
from catena_nb.sandbox.sim.outcomes import (
    _VALIDATION_REASONS,
    NETWORK_ERRORS,
    TSP_ERRORS,
    _refused,
    http_error_details,
    rate_limited,
)
from catena_nb.sandbox.sim.profiles import PROFILES

Writer = Callable[[random.Random], str]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hex(rng: random.Random, n: int = 16) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n)) + "a1"


def _number(rng: random.Random) -> int:
    return rng.randrange(10**5, 10**15)


def _name(rng: random.Random) -> str:
    return rng.choice(["Bob Smith", "Ana Ruiz", "Wei Chen", "O'Neil Brown", "Zoë Müller", "Kim"])


def _email(rng: random.Random) -> str:
    user = _name(rng).split()[0].lower().replace("'", "")
    return f"{user}@fleet{rng.randint(1, 99)}.example.com"


def _when(rng: random.Random) -> str:
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"  # noqa: E501


def _fixed(text: str) -> Writer:
    """A cause whose text never varies."""
    return lambda rng: text


def _refusal(
    slug: str, error_type: str, code: int, message: str | None, variant: Callable[[int], bool]
) -> Writer:
    """A TSP's error answer as the sandbox writes it (``outcomes._refused``), for a call draw ``n`` whose
    wording is the one ``variant`` picks (the same status can say different things: different causes)."""
    profile = PROFILES[slug]

    def write(rng: random.Random) -> str:
        while not variant(n := rng.getrandbits(64)):
            pass
        return str(_refused(profile, n, 0.0, error_type, code, message).error_details)

    return write


def _any(n: int) -> bool:
    return True


def _wording(shift: int, count: int, v: int) -> Callable[[int], bool]:
    """The draws whose wording is the ``v``-th of ``count`` (errortexts picks it from ``n >> shift``)."""
    return lambda n: (n >> shift) % count == v


def _validation(slug: str, reason: int) -> Writer:
    """A recipient or sender the TSP refuses: its words name the call's driver and user."""
    profile = PROFILES[slug]

    def write(rng: random.Random) -> str:
        n = rng.getrandbits(64)
        message = errortexts.validation_reason(reason, n)
        return str(_refused(profile, n, 0.0, "validation", 422, message).error_details)

    return write


def _too_long(slug: str, code: int, limit: int) -> Writer:
    def write(rng: random.Random) -> str:
        cap = rng.choice([limit, INCIDENT_TEXT_LIMIT])
        length = cap + rng.randint(1, 900)
        message = f"message text is {length} characters; at most {cap} are allowed"
        return _refusal(slug, "validation", code, message, _any)(rng)

    return write


def _unsupported(slug: str, resource: str, status: str) -> Writer:
    return lambda rng: (
        f"Validation error: the TSP {slug} of connection '{_uuid(rng)}' does not support {resource} writes "
        f"({status}); see GET /v2/integrations/tsps"
    )


def _not_a_user(field: str) -> Writer:
    return lambda rng: f"Validation error: {field} '{_uuid(rng)}' is not a user of connection '{_uuid(rng)}'"


def _sandbox_causes() -> dict[str, Writer]:
    """The texts the sandbox writes (sim/outcomes.py and sim/errortexts.py, sim/engine.py), for every TSP
    profile: one cause per status and wording, each with the ids and values that vary per call."""
    causes: dict[str, Writer] = {}
    for slug, profile in PROFILES.items():
        for v in range(2):
            causes[f"{slug} 401 wording {v}"] = _refusal(slug, "auth", 401, None, _wording(0, 2, v))
        causes[f"{slug} 403"] = _refusal(slug, "auth", 403, None, _any)
        causes[f"{slug} 429"] = _refusal(slug, "tsp", 429, None, _any)
        for code, _ in TSP_ERRORS:
            if code == 429:
                continue
            for v in range(3):
                causes[f"{slug} {code} wording {v}"] = _refusal(slug, "tsp", code, None, _wording(4, 3, v))
        causes[f"{slug} 429 rate limit body"] = _fixed(rate_limited(profile, 1.0).error_details or "")
        causes[f"{slug} 401 token expired"] = _refusal(slug, "auth", 401, "Unauthorized: token expired", _any)
        for reason in range(_VALIDATION_REASONS):
            causes[f"{slug} 422 reason {reason}"] = _validation(slug, reason)
        rule = 400 if slug in ("samsara", "geotab") else 422
        causes[f"{slug} text too long"] = _too_long(slug, rule, profile.text_limit)
        causes[f"{slug} empty text"] = _refusal(
            slug, "validation", rule, "message text must not be empty", _any
        )
        for resource in ("message", "group_message"):
            for status in ("not_supported", "not_implemented"):
                causes[f"{slug} {resource} {status}"] = _unsupported(slug, resource, status)
    for details, _, _ in NETWORK_ERRORS:
        causes[f"network: {details}"] = _fixed(details)
    for field in ("sender_id", "recipient_id", "recipient_ids"):
        causes[f"{field} not a user"] = _not_a_user(field)
    causes["no recipients"] = _fixed("Validation error: recipient_ids must name at least one user")
    causes["unknown connection"] = lambda rng: (
        f"Validation error: connection_id '{_uuid(rng)}' is not a connection of this partner"
    )
    return causes


def _samsara(rng: random.Random, status: int, message: str) -> str:
    url = f"https://api.samsara.com/fleet/drivers/{_number(rng)}/messages?limit={rng.randint(1, 500)}"
    body = {"message": message, "requestId": _hex(rng)}
    return http_error_details(url, status, json.dumps(body))


def _motive(rng: random.Random, status: int, code: str, message: str, **extra: object) -> str:
    body = {"error_code": code, "error_message": message, "request_id": f"req_{_hex(rng, 12)}", **extra}
    return http_error_details(
        f"https://api.gomotive.com/v1/messages?user_id={_number(rng)}", status, json.dumps(body)
    )


def _geotab(rng: random.Random, name: str, message: str) -> str:
    host = f"https://my{rng.randint(1, 999)}.geotab.com/apiv1"
    body = {
        "error": {
            "code": -32000,
            "message": message,
            "name": "JSONRPCError",
            "data": {"id": _uuid(rng), "type": name, "requestIndex": rng.randint(0, 40)},
        },
        "jsonrpc": "2.0",
        "requestIndex": rng.randint(0, 40),
    }
    return f"Geotab call to {host} failed: {json.dumps(body)}"


def _real_causes() -> dict[str, Writer]:
    """Real-looking varying texts: Samsara, Motive and Geotab styles of error body."""
    return {
        "samsara driver not found": lambda rng: _samsara(rng, 404, f"Driver {_number(rng)} not found"),
        "samsara vehicle not found": lambda rng: _samsara(rng, 404, f"Vehicle {_number(rng)} not found"),
        "samsara bad field": lambda rng: _samsara(
            rng, 400, f'Invalid value for field \'driverId\': "{_name(rng)}" at {_when(rng)}'
        ),
        "samsara bad text": lambda rng: _samsara(
            rng, 400, f'Invalid value for field \'text\': "{_name(rng)}" at {_when(rng)}'
        ),
        "samsara rate limit": lambda rng: _samsara(
            rng, 429, f"Rate limit exceeded; retry after {rng.randint(1, 60)} seconds"
        ),
        "motive inactive driver": lambda rng: _motive(
            rng, 400, "invalid_driver", f"Driver {_number(rng)} is not active", driver_name=_name(rng)
        ),
        "motive unknown driver": lambda rng: _motive(
            rng, 400, "driver_not_found", f"Driver {_number(rng)} is not active", driver_name=_name(rng)
        ),
        "motive key revoked": lambda rng: _motive(
            rng, 401, "unauthorized", f"API key revoked for {_email(rng)}"
        ),
        "motive body too long": lambda rng: _motive(
            rng, 422, "validation_failed", "Validation failed",
            errors=[{"field": "body", "message": f"is too long (maximum is {rng.randint(100, 2000)} chars)"}]
            * rng.randint(1, 3),
        ),
        "motive recipient missing": lambda rng: _motive(
            rng, 422, "validation_failed", "Validation failed",
            errors=[{"field": "recipient_ids", "message": "can't be blank"}],
        ),
        "geotab bad login": lambda rng: _geotab(
            rng, "InvalidUserException", f"Bad login credentials @ 'fleet{rng.randint(1, 99)}_{_hex(rng, 4)}'"
        ),
        "geotab db unavailable": lambda rng: _geotab(
            rng, "DbUnavailableException", f"Database 'acme_{_hex(rng, 6)}' is unavailable"
        ),
        "geotab duplicate": lambda rng: _geotab(
            rng, "DuplicateException", f"Duplicate TextMessage b{_hex(rng, 6)} sent at {_when(rng)}"
        ),
    }  # fmt: skip


CAUSES: dict[str, Writer] = {**_sandbox_causes(), **_real_causes()}


def variants(writer: Writer, n: int, seed: int) -> list[str]:
    """``n`` texts of one cause, each with its own ids and values."""
    rng = random.Random(seed)
    return [writer(rng) for _ in range(n)]
