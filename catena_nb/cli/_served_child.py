"""The process that serves ``catena-nb report``'s sandbox (see :mod:`._served`).

It reads its settings as one JSON line on stdin (the client secret among them, so that it shows in no
argument list nor environment), builds the sandbox and its history, serves, and writes ``serving`` on
stdout, or ``error`` and why. It stops when its stdin closes: when the report is done, and as surely when the
report's process dies.
"""

from __future__ import annotations

import json
import sys

from catena_nb.cli._common import out


def main() -> int:
    settings = json.loads(sys.stdin.readline())
    try:
        from catena_nb.sandbox import Sandbox

        sandbox = Sandbox(
            int(settings["seed"]),
            history=int(settings["days"]),
            anchor=str(settings["anchor"]),
            time_scale=float(settings["time_scale"]),
            port=int(settings["port"]),
            client_secret=str(settings["client_secret"]),  # the one the kernel was given
        )
        sandbox.start()
    except Exception as exc:  # told to the report, which raises it
        out(f"error {type(exc).__name__}: {exc}")
        return 1
    out("serving")
    try:
        sys.stdin.read()  # until the report closes it
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the report stops too
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
