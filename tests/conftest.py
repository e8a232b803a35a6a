"""Shared test configuration.

Fixtures used by one test module live in that module; only truly shared ones
belong here.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")  # tests never open windows

os.environ.setdefault("PYTHONHASHSEED", "0")
