"""Named steps of the store's multi-step writes, where a test can make the process die on the spot.

A rekey, a creation, a backup and a restore each write several files one after the other; a power cut can land
between any two. The crash tests run the real operation in a child process with ``PARLEY_TEST_DIE_AT`` naming one
step, and the child kills itself there with SIGKILL (no ``finally``, no ``atexit``), exactly as a crash would.
Without the variable, ``reached`` does nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "PARLEY_TEST_DIE_AT"


def reached(step: str) -> None:
    if os.environ.get(ENV) == step:
        kill = getattr(signal, "SIGKILL", None)
        if kill is None:  # Windows: _exit skips every cleanup handler too
            os._exit(137)
        os.kill(os.getpid(), kill)
