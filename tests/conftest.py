"""Shared test configuration.

Fixtures used by one test module live in that module; only truly shared ones
belong here.
"""

from __future__ import annotations

import os

import matplotlib
from threadpoolctl import threadpool_limits

matplotlib.use("Agg")  # tests never open windows
# One BLAS thread: on a loaded 2-core machine multi-threaded BLAS on small matrices
# oversubscribes the cores (measured: 3 s vs 85 s for the simulation tests).
threadpool_limits(1)

os.environ.setdefault("PYTHONHASHSEED", "0")
