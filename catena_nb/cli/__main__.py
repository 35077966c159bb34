"""``python -m catena_nb.cli``: the ``catena-nb`` command."""

from __future__ import annotations

import sys

from catena_nb.cli import main

sys.exit(main())
