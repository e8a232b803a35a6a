"""What every staggered-adoption design shares: timing and outcome from the Panel's roles.

Each design takes ``cohort``, ``never_treated`` and ``outcome`` as arguments or from a
Panel (its timing role and primary outcome); on a DataFrame without them it refuses
and names the argument. The registry declares the same options for each, none of
them required, so a spec or the CLI can rely on the Panel.
"""

from __future__ import annotations

import warnings

import pytest

import causalpolicing as cp
from causalpolicing.estimators import registry
from causalpolicing.exceptions import SpecError

DESIGNS = {
    "event_study": cp.event_study,
    "callaway_santanna": cp.callaway_santanna,
    "etwfe": cp.etwfe,
    "did_imputation": cp.did_imputation,
    "did2s": cp.did2s,
    "sun_abraham": cp.sun_abraham,
    "lp_did": cp.lp_did,
}


@pytest.fixture(scope="module")
def panel() -> cp.Panel:
    return cp.datasets.load("mpdta")


def test_every_design_is_listed_here() -> None:
    designs = {e.name for e in registry.entries() if e.is_design}
    assert designs == set(DESIGNS)


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_registry_timing_options_are_shared_and_optional(name: str) -> None:
    entry = registry.get(name)
    opts = {o.name: o for o in entry.options}
    for key in ("cohort", "never_treated", "outcome", "unit", "time"):
        assert key in opts and not opts[key].required, (name, key)
    assert "outcome" in entry.panel_defaults


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_outcome_and_timing_default_to_the_panels_roles(name: str, panel: cp.Panel) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        implicit = DESIGNS[name](panel)
        explicit = DESIGNS[name](panel, outcome="lemp", cohort="first.treat", never_treated=0)
    assert list(implicit.params.index) == list(explicit.params.index)
    # same data, same options: the same numbers (tolerance: the same computation twice)
    assert (implicit.params - explicit.params).abs().max() < 1e-12


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_a_dataframe_without_outcome_is_refused_by_name(name: str, panel: cp.Panel) -> None:
    frame = panel.to_frame()
    with pytest.raises(SpecError, match="outcome="):
        DESIGNS[name](frame, cohort="first.treat", never_treated=0, unit="countyreal",
                      time="year")
