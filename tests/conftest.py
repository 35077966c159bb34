"""Settings shared by every test: no progress bars, no display, no credentials from the shell."""

from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

# Credentials in the developer's shell must never reach a test: tests use the sandbox.
for _name in ("CATENA_BASE_URL", "CATENA_AUTH_URL", "CATENA_CLIENT_ID", "CATENA_CLIENT_SECRET"):
    os.environ.pop(_name, None)
os.environ.pop("CATENA_TOKEN", None)
