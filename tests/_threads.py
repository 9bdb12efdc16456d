"""How many torch threads one test process may use.

Run serially, a test has both cores. Under pytest-xdist (``make test`` runs two workers) each worker gets one
core's worth, so two workers never oversubscribe the machine; code under test that asks for more is capped.
"""

from __future__ import annotations

import os

CORES = 2  # every machine this suite targets (CI included) has two
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
THREADS = max(1, CORES // WORKERS)
