"""``/v2/integrations/tsps``: the TSPs behind the partner's connections and what each one's integration
supports, resource by resource (``implemented``, ``not_implemented``, ``not_supported``).

As in Catena's integrations spec, neither path lists a ``security`` entry: no token is needed.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from fastapi.responses import Response

from catena_nb.sandbox.api.auth import open_router
from catena_nb.sandbox.api.context import Ctx
from catena_nb.sandbox.api.errors import APIError
from catena_nb.sandbox.api.pagination import Key, dumps, envelope, page
from catena_nb.sandbox.api.query import PageQuery, parse_cursor
from catena_nb.sandbox.api.schemas import CursorPage, TspIntegrationsRead
from catena_nb.sandbox.sim.integrations import STATUSES
from catena_nb.sandbox.sim.types import Tsp, World

router = open_router("TSP Integrations")

TSPS_PATH = "/v2/integrations/tsps"


def tsp_record(tsp: Tsp) -> dict[str, Any]:
    """A TSP as ``TspIntegrationsRead``: every resource's status and the count of each status."""
    integrations = dict(tsp.integrations)
    counts = {status: sum(1 for s in integrations.values() if s == status) for status in STATUSES}
    return {
        "tsp_id": tsp.id,
        "slug": tsp.slug,
        "source_name": tsp.source_name,
        "integrations": integrations,
        "implemented_count": counts["implemented"],
        "not_implemented_count": counts["not_implemented"],
        "not_supported_count": counts["not_supported"],
    }


@functools.lru_cache(maxsize=8)
def _records(world: World) -> dict[Key, bytes]:
    # in slug order, the one order the records have (they carry no timestamps)
    return {(t.slug, t.id): dumps(tsp_record(t)) for t in sorted(world.tsps, key=lambda t: (t.slug, t.id))}


@router.get(TSPS_PATH, response_model=CursorPage, summary="List Integrations Per Tsp")
async def list_tsps(ctx: Ctx, page_query: PageQuery) -> Response:
    """Every TSP of the partner's connections, with the supported integrations of each."""
    records = _records(ctx.state.world)
    cut = page(list(records), lo=None, hi=None, cursor=parse_cursor(page_query.cursor), size=page_query.size)
    return Response(envelope([records[k] for k in cut.keys], cut), media_type="application/json")


@router.get(f"{TSPS_PATH}/{{tsp_id}}", response_model=TspIntegrationsRead, summary="Get Integrations Per Tsp")
async def get_tsp(ctx: Ctx, tsp_id: uuid.UUID) -> Response:
    """One TSP by id with its supported integrations."""
    tsp = ctx.state.world.tsp(str(tsp_id))
    if tsp is None:
        raise APIError(404, f"TSP {tsp_id} not found")
    return Response(dumps(tsp_record(tsp)), media_type="application/json")
