"""Write fixest's ``base_stagg`` (R data set of fixest 0.12.2) to ``base_stagg.csv``.

Run with the peers venv (``/work/venv-peers/bin/python``, which has the pure-Python
RData reader ``rdata`` 1.1.0)::

    python tests/golden/staggered/make_base_stagg.py path/to/base_stagg.RData

``base_stagg.RData`` is ``data/base_stagg.RData`` of the fixest repository
(github.com/lrberge/fixest, commit dbe56c5, version 0.12.2): 95 units x 10 years,
the example of the Sun-Abraham section of fixest's walkthrough vignette, whose
printed numbers ``tests/test_sun_abraham.py`` checks. Floats are written with 17
significant digits (exact round trip).
"""

import sys
from pathlib import Path


def main(path: str) -> None:
    import rdata  # peers venv only (the test suite imports this module for its doctests)

    df = rdata.read_rda(path)["base_stagg"]
    df = df.astype({"id": "int64", "year": "int64"}).sort_values(["id", "year"])
    df.to_csv(Path(__file__).with_name("base_stagg.csv"), index=False, float_format="%.17g")


if __name__ == "__main__":
    main(sys.argv[1])
