"""The output folder of ``analyze`` is replaced as a whole, never mixed (issue 10, item 3).

A second run into a non-empty folder is refused unless ``overwrite``; ``overwrite``
leaves no stale file; a run that fails or is interrupted leaves the folder as it
was and no staging folder behind; an unwritable place is an error before anything
is analysed. The CLI maps each refusal to exit code 2.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import causalpolicing as cp
from causalpolicing.analysis import outputs as outputs_mod
from causalpolicing.analysis import run as run_mod
from causalpolicing.exceptions import SpecError

MODEL = ('[[models]]\nname = "{name}"\nestimator = "feols"\n'
         'formula = "lcrmrte ~ lprbarr | county + year"\nvcov = "iid"\n')
BASE = '[data]\ndataset = "nc_crime"\n[diagnostics]\nfeedback = false\n[report]\nfigures = []\n'


def spec(*names: str) -> str:
    return BASE + "".join(MODEL.format(name=n) for n in names)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "causalpolicing", *args],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture()
def first(tmp_path: Path) -> Path:
    out = tmp_path / "report"
    cp.analyze(spec("alpha", "beta"), out=out)
    return out


def test_manifest_lists_every_file(first: Path) -> None:
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is True
    assert manifest["format"] == outputs_mod.MANIFEST_FORMAT
    assert manifest["causalpolicing"] == cp.__version__
    assert manifest["files"] == sorted(p for p in snapshot(first) if p != "manifest.json")
    assert leftovers(first.parent) == []


def test_outputs_point_into_the_final_folder(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = cp.analyze(spec("alpha"), out=out)
    assert all(Path(p).is_file() and out in Path(p).parents for p in result.outputs.values())
    assert result.outputs["manifest"] == out / "manifest.json"


def test_second_run_is_refused(first: Path) -> None:
    before = snapshot(first)
    with pytest.raises(SpecError, match=r"already exists and is not empty; pass --overwrite"):
        cp.analyze(spec("gamma"), out=first)
    assert snapshot(first) == before
    assert leftovers(first.parent) == []


def test_overwrite_replaces_everything(first: Path) -> None:
    assert (first / "results" / "beta.json").is_file()
    cp.analyze(spec("alpha"), out=first, overwrite=True)
    assert sorted(p.name for p in (first / "results").iterdir()) == ["alpha.json"]
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    assert set(snapshot(first)) == {*manifest["files"], "manifest.json"}  # nothing stale
    assert leftovers(first.parent) == []


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    cp.analyze(spec("alpha"), out=out)
    assert (out / "manifest.json").is_file()


def test_overwrite_refuses_a_folder_that_is_not_an_output(tmp_path: Path) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("precious", encoding="utf-8")
    with pytest.raises(SpecError, match=r"does not look like an analysis output"):
        cp.analyze(spec("alpha"), out=out, overwrite=True)
    assert snapshot(out) == {"chapter1.tex": b"precious"}


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.write_text("not a folder", encoding="utf-8")
    with pytest.raises(SpecError, match=r"exists and is not a folder"):
        cp.analyze(spec("alpha"), out=out, overwrite=True)
    assert out.read_text(encoding="utf-8") == "not a folder"


class Boom(Exception):
    pass


@pytest.mark.parametrize("where", ["report", "writing", "interrupt"])
def test_failure_mid_run_leaves_out_untouched(first: Path, monkeypatch: pytest.MonkeyPatch,
                                              where: str) -> None:
    before = snapshot(first)
    if where == "report":  # a late step of the analysis fails
        def fail(*args: object, **kwargs: object) -> None:
            raise Boom("report failed")

        monkeypatch.setattr(run_mod, "_report", fail)
        exc: type[BaseException] = Boom
    else:  # half the outputs are written, then an error or Ctrl-C
        real = outputs_mod.write_outputs
        exc = Boom if where == "writing" else KeyboardInterrupt

        def half(analysis: object, out: Path, **kwargs: object) -> None:
            real(analysis, out, **kwargs)
            raise exc("stopped while writing")

        monkeypatch.setattr(run_mod, "write_outputs", half)  # the name the runner calls
    with pytest.raises(exc):
        cp.analyze(spec("gamma"), out=first, overwrite=True)
    assert snapshot(first) == before
    assert leftovers(first.parent) == []


def test_failure_leaves_no_new_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise Boom("report failed")

    monkeypatch.setattr(run_mod, "_report", fail)
    with pytest.raises(Boom):
        cp.analyze(spec("alpha"), out=tmp_path / "report")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_unwritable_place_fails_before_analysing(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")  # a folder cannot be made under a file,
    out = blocker / "report"                    # not even by root

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data were loaded before the output folder was checked")

    monkeypatch.setattr(run_mod, "load_spec_data", never)
    with pytest.raises(SpecError, match=r"a-file' is a file, not a folder"):
        cp.analyze(spec("alpha"), out=out)


def test_permission_denied_fails_before_analysing(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod does not stop root (the CI runs as root): refuse the staging folder instead
    def denied(out: Path, kind: str) -> Path:
        raise PermissionError(13, "Permission denied", str(out.parent))

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data were loaded before the output folder was checked")

    monkeypatch.setattr(outputs_mod, "_sibling", denied)
    monkeypatch.setattr(run_mod, "load_spec_data", never)
    with pytest.raises(SpecError, match=r"cannot write to .* \(Permission denied\)"):
        cp.analyze(spec("alpha"), out=tmp_path / "report")
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_second_run_and_unwritable_out_with_exit_2(first: Path,
                                                                tmp_path: Path) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(spec("gamma"), encoding="utf-8")
    before = snapshot(first)
    again = cli("analyze", "--config", str(config), "--out", str(first))
    assert again.returncode == 2, again.stderr
    assert "--overwrite" in again.stderr and str(first) in again.stderr
    assert "[1/" not in again.stderr            # refused before loading anything
    assert snapshot(first) == before
    blocked = tmp_path / "a-file"
    blocked.write_text("x", encoding="utf-8")
    bad = cli("analyze", "--config", str(config), "--out", str(blocked / "report"))
    assert bad.returncode == 2, bad.stderr
    assert str(blocked) in bad.stderr and "[1/" not in bad.stderr
    assert "Traceback" not in bad.stderr


def test_cli_overwrite_replaces(first: Path, tmp_path: Path) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(spec("gamma"), encoding="utf-8")
    res = cli("analyze", "--config", str(config), "--out", str(first), "--overwrite",
              "--no-progress")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (first / "results").iterdir()) == ["gamma.json"]


# ------------------------------------------------------------------ progress lines
def _log(mode: str) -> tuple[object, object]:
    import io

    from causalpolicing.analysis.progress import StepLog

    stream = io.StringIO()
    return StepLog(mode, total=2, stream=stream, clock=iter(range(100)).__next__), stream


def test_step_log_lines_close_each_step_and_sub_step() -> None:
    log, stream = _log("lines")
    log.step("fitting a")
    log.sub("bootstrap")
    log.step("report")
    log.close()
    assert stream.getvalue().splitlines() == [
        "[1/2] fitting a ...", "      bootstrap ... done in 1.0 s",
        "[1/2] fitting a ... done in 3.0 s", "[2/2] report ... done in 1.0 s"]


def test_step_log_bars_mode_keeps_sub_steps_on_their_own_lines() -> None:
    log, stream = _log("bars")
    log.step("causal checks")
    log.sub("refuter placebo_lead")
    assert stream.getvalue().endswith("      refuter placebo_lead ...\n")  # a bar may follow
    log.close()
    assert stream.getvalue().splitlines()[-1] == "[1/2] causal checks ... done in 2.0 s"


def test_step_log_marks_a_failed_or_interrupted_step() -> None:
    log, stream = _log("lines")
    log.step("report")
    log.fail(KeyboardInterrupt())
    assert stream.getvalue() == "[1/2] report ... interrupted\n"


def test_progress_mode_is_checked() -> None:
    with pytest.raises(SpecError, match=r"progress must be True .* 'lines', 'bars'"):
        cp.analyze(spec("alpha"), progress="verbose")
