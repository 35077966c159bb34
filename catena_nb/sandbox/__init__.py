"""A local stand-in for the Catena Telematics API with simulated TSPs.

``Sandbox`` serves it over real HTTP on 127.0.0.1; ``catena-nb sandbox --port N`` serves it for curl.
Nothing here imports from the rest of catena_nb, so a drift between the client and the API shows in tests.
"""

from __future__ import annotations

from catena_nb.sandbox.server import Sandbox
from catena_nb.sandbox.sim.types import Connection, Incident, User

__all__ = ["Connection", "Incident", "Sandbox", "User"]
