"""What each simulated TSP's integration supports, resource by resource (``GET /v2/integrations/tsps``).

Catena's ``TspIntegrationsRead`` (``specs/integrations/openapi.json`` of catenaclearing/catena-sdk-go) maps
every resource to ``implemented``, ``not_implemented`` or ``not_supported``, with the three counts. The
statuses below are the sandbox's world, not any real TSP's.
"""

from __future__ import annotations

from typing import Literal, get_args

from catena_nb.sandbox.sim.ids import stable_uuid
from catena_nb.sandbox.sim.types import Tsp

IMPLEMENTED = "implemented"
NOT_IMPLEMENTED = "not_implemented"
NOT_SUPPORTED = "not_supported"
STATUSES = (IMPLEMENTED, NOT_IMPLEMENTED, NOT_SUPPORTED)

# ResourceEnum, in the docs' order (catena-api.md §4); the keys of every TSP's integrations.
Resource = Literal[
    "asset", "driver_association", "driver_vehicle_association", "driver_event_log", "driver_safety_event",
    "dvir_log", "dvir_log_defect", "engine_log", "engine_status", "fuel_transaction", "fleet_info",
    "hos_availability", "hos_daily_snapshot", "hos_event", "hos_event_annotation", "hos_event_attachment",
    "hos_violation", "ifta_summary", "location_segment", "message", "group_message", "user", "vehicle",
    "vehicle_location", "vehicle_sensor", "vehicle_region_segment", "trailer", "trailer_association",
    "trailer_vehicle_association", "trailer_location", "trailer_status", "workflow",
]  # fmt: skip
RESOURCES: tuple[str, ...] = get_args(Resource)

_FLEET = ("user", "vehicle", "vehicle_location", "driver_vehicle_association", "engine_status")
_HOS = ("hos_availability", "hos_daily_snapshot", "hos_event", "hos_violation", "dvir_log", "dvir_log_defect")
_MESSAGES = ("message", "group_message")

# assumed: which resources each simulated TSP supports (no real TSP's list is copied). The four TSPs that
# carry the traffic take message and group-message writes; hos247, an hours-of-service logbook, has no
# messaging API (`not_supported`), so a send through its connection fails (sim/engine.py).
# slug: (the TSP's slug, implemented, supported by the TSP but not implemented by Catena)
_SUPPORT: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "samsara": (
        "samsara",
        (
            *_MESSAGES,
            *_FLEET,
            *_HOS,
            "driver_safety_event",
            "fuel_transaction",
            "trailer",
            "trailer_location",
        ),
        ("ifta_summary", "workflow", "vehicle_sensor"),
    ),
    "motive": (
        "motive",
        (*_MESSAGES, *_FLEET, *_HOS, "driver_safety_event", "fuel_transaction", "ifta_summary"),
        ("trailer", "trailer_location", "engine_log"),
    ),
    "geotab": (
        "geotab",
        (*_MESSAGES, *_FLEET, *_HOS, "engine_log", "fuel_transaction", "vehicle_sensor"),
        ("driver_safety_event", "ifta_summary"),
    ),
    "omnitracs": (
        "omnitracs-one",
        (*_MESSAGES, *_FLEET, *_HOS, "workflow"),
        ("trailer", "trailer_location", "fuel_transaction"),
    ),
    "hos247": (
        "hos247-eld",
        ("user", "vehicle", "vehicle_location", *_HOS),
        ("ifta_summary", "driver_vehicle_association"),
    ),
}


def integrations_of(source_name: str) -> tuple[tuple[str, str], ...]:
    """Every resource with its integration status at the TSP ``source_name`` (KeyError if unknown)."""
    _, implemented, not_implemented = _SUPPORT[source_name]
    status = dict.fromkeys(RESOURCES, NOT_SUPPORTED)
    status.update(dict.fromkeys(not_implemented, NOT_IMPLEMENTED))
    status.update(dict.fromkeys(implemented, IMPLEMENTED))
    return tuple((resource, status[resource]) for resource in RESOURCES)


def build_tsp(seed: int, source_name: str) -> Tsp:
    """The TSP record of ``source_name``; its id is the ``tsp_id`` its connections carry."""
    return Tsp(
        id=stable_uuid(seed, "tsp", source_name),
        slug=_SUPPORT[source_name][0],
        source_name=source_name,
        integrations=integrations_of(source_name),
    )
